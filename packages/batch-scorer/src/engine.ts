/**
 * `scoreFiles`: Parquet, Arrow and CSV files through a model into one output table, in bounded
 * memory and on every core.
 *
 *   inputs → openTableReader (chunks of ≤ batchRows rows) → the model's columns to a scorer
 *   (worker threads, or the Python pool) → predictions back, in input order → the kept input
 *   columns and the prediction columns, side by side → openTableWriter (a temporary file, renamed
 *   into place only when everything succeeded).
 *
 * At most `2 × parallelism + 1` chunks are between the reader and the writer at any time (read,
 * being scored, or scored and waiting for an earlier one to be written): the reader is not asked
 * for more until the oldest is written, so memory does not grow with the input.
 */
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import { createRegistry, silentLogger, type FlavorLogger } from '@mlmodel/flavors';
import {
  TABLE_FORMATS,
  batchLayoutKey,
  batchRows as rowsOf,
  openModelDir,
  tableFormatForFile,
  type Batch,
  type ModelDir,
  type ModelUriResolver,
  type ParquetCompression,
  type TableFormat,
  type TablePart,
  type TableReader,
} from '@mlmodel/format';
import { openTableReader } from '@mlmodel/format/table';
import { columnNames, concatRows, emptyPredictionColumns, keptColumns, outputNames, selectColumns, sliceRows, zeroRows, type KeepColumns } from './columns.js';
import { BatchCancelledError, BatchScoringError, ChunkScoringError, describeFailure, type ChunkFailure, type ErrorInfo } from './errors.js';
import { resolveInputs, samePath, type InputFile } from './inputs.js';
import { ProgressChannel, peakRss, type BatchPhase, type BatchProgress } from './progress.js';
import type { ChunkSettings, OnError, RangeOutcome } from './score-chunk.js';
import { MainScorer, ThreadScorer, type Scorer } from './scorers.js';
import { openOutput, type OutputWriter } from './output.js';

export const DEFAULT_BATCH_ROWS = 65_536;
export const DEFAULT_PROGRESS_INTERVAL_MS = 500;
/** Failures a summary lists (all are counted). */
export const MAX_SUMMARY_FAILURES = 100;

export interface ScoreFilesOptions {
  /** A model directory, its MLmodel file, a `file:` URI, a URI `resolver` knows, or an opened directory. */
  readonly model: string | ModelDir;
  /** Parquet, Arrow IPC (file or stream) and CSV files, directories of them, or globs. */
  readonly inputs: readonly string[];
  /** The output file; it appears only when the whole run succeeded. */
  readonly output: string;
  /** Output format (default: from the output's extension). */
  readonly format?: TableFormat | undefined;
  /** Parquet compression (default snappy). */
  readonly compression?: ParquetCompression | undefined;
  /** Worker threads for in-process flavors; Python worker processes for python_function unless its `workers` load option is set (default: the cores). */
  readonly workers?: number | undefined;
  /** Most rows per chunk, i.e. per model call (default 65,536; chunks also stay under 64 MiB decoded). */
  readonly batchRows?: number | undefined;
  /** The input columns the model gets, in this order (default: all of them). */
  readonly columns?: readonly string[] | null | undefined;
  /** The input columns written next to the predictions (default `all`). */
  readonly keepColumns?: KeepColumns | undefined;
  /** A chunk that fails stops the run (`fail`, default), or its failing rows are left out (`skip`) or get null predictions (`null`). */
  readonly onError?: OnError | undefined;
  /** Inference params, checked against the signature's params like a request's. */
  readonly params?: Readonly<Record<string, unknown>> | null | undefined;
  /** Load with this flavor instead of the first that can. */
  readonly flavor?: string | undefined;
  /** Flavor load options (onnx session options, python workers…). */
  readonly flavorOptions?: Readonly<Record<string, unknown>> | undefined;
  /** Third-party flavor packages or modules to register (the worker threads register them too). */
  readonly plugins?: readonly string[] | undefined;
  readonly resolver?: ModelUriResolver | undefined;
  readonly logger?: FlavorLogger | undefined;
  /** Cancels the run: nothing is written at the destination and `result` rejects with `BatchCancelledError`. */
  readonly signal?: AbortSignal | undefined;
  /** Least time between progress snapshots (default 500 ms). */
  readonly progressIntervalMs?: number | undefined;
}

export interface BatchSummary {
  readonly output: string;
  readonly format: TableFormat;
  readonly files: number;
  readonly flavor: string;
  /** `threads`: worker threads with a copy of the model each; `main`: one model on the main thread (its own process pool). */
  readonly mode: 'threads' | 'main';
  /** Model calls that ran at once. */
  readonly workers: number;
  /** Input rows. */
  readonly rows: number;
  readonly rowsWritten: number;
  readonly rowsScored: number;
  readonly rowsSkipped: number;
  readonly rowsNulled: number;
  /** From the call to the output in place, model loading included. */
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** This process's peak resident set (worker threads included; Python worker processes not). */
  readonly peakRssBytes: number;
  readonly outputBytes: number;
  /** The first chunk failures (skipped or nulled rows), and how many there were. */
  readonly failures: readonly ChunkFailure[];
  readonly failureCount: number;
}

/** A run under way: its progress, its result, and a way to stop it. */
export interface BatchJob {
  /** Snapshots until the run ends (iterate once; a slow consumer gets the latest, failures are kept). */
  readonly progress: AsyncIterable<BatchProgress>;
  /** The summary, or the error that stopped the run (`BatchCancelledError` when cancelled). */
  readonly result: Promise<BatchSummary>;
  /** Stop the run; `result` rejects with `BatchCancelledError` once everything is released. */
  cancel(reason?: unknown): void;
}

/** Score files with a model (see the module comment). Returns at once; the run goes on in the background. */
export function scoreFiles(options: ScoreFilesOptions): BatchJob {
  const run = new Run(options);
  const result = run.execute();
  // the caller handles the rejection through `result`; a caller that only reads the progress must not crash the process
  result.catch(() => undefined);
  return { progress: run.channel, result, cancel: (reason) => run.cancel(reason) };
}

function positiveInt(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new BatchScoringError(`${name} must be a positive whole number, got ${v}`);
  return v;
}

/** A model call on a chunk may take longer than a request: python_function's per-call timeout unless set. */
export const DEFAULT_PYTHON_CHUNK_TIMEOUT_MS = 600_000;

/** python_function load options for a run: its own process pool is the parallelism (`workers` unless set), and chunk-sized calls get a longer timeout. */
function pythonOptions(given: Readonly<Record<string, unknown>>, workers: number): Record<string, unknown> {
  return { workers, timeoutMs: DEFAULT_PYTHON_CHUNK_TIMEOUT_MS, ...given };
}

interface SourceChunk {
  readonly file: string;
  readonly fileIndex: number;
  readonly rowOffset: number;
  readonly rows: number;
  readonly batch: Batch;
}

type Settled = { readonly ok: true; readonly outcomes: RangeOutcome[] } | { readonly ok: false; readonly error: unknown };

interface Entry {
  readonly chunk: Omit<SourceChunk, 'batch'>;
  readonly kept: Batch | null;
  readonly settled: Promise<Settled>;
  value: Settled | undefined;
}

interface FileState {
  numRows: number | undefined;
  readRows: number;
  doneRows: number;
  readToEnd: boolean;
}

class Run {
  readonly channel = new ProgressChannel();
  readonly #opts: ScoreFilesOptions;
  /** Aborted when the run stops early: by `cancel()` (then `#cancelled`) or after a failure. */
  readonly #ctrl = new AbortController();
  #cancelled = false;
  readonly #aborted: Promise<never>;
  readonly #started = performance.now();
  readonly #logger: FlavorLogger;
  #phase: BatchPhase = 'loading';
  #scoringStarted: number | null = null;
  #inputs: InputFile[] = [];
  #files: FileState[] = [];
  #currentFile: number | null = null;
  #scorer: Scorer | null = null;
  #rowsRead = 0;
  #rowsScored = 0;
  #rowsSkipped = 0;
  #rowsNulled = 0;
  #rowsWritten = 0;
  #failures: ChunkFailure[] = [];
  #failureCount = 0;
  #rates: { t: number; rows: number }[] = [];
  #peakRss = 0;
  /** An empty prediction of the model's output layout, once a chunk was scored (null mode fills failed rows with it). */
  #layout: Batch | null = null;
  /** The kept columns of the first chunk with no rows (for a run whose inputs are all empty). */
  #emptyKept: Batch | null | undefined;

  constructor(opts: ScoreFilesOptions) {
    this.#opts = opts;
    this.#logger = opts.logger ?? silentLogger;
    this.#aborted = new Promise<never>((_, reject) => {
      this.#ctrl.signal.addEventListener('abort', () => reject(new BatchCancelledError(this.#ctrl.signal.reason)), { once: true });
    });
    this.#aborted.catch(() => undefined);
    const outer = opts.signal;
    if (outer) {
      if (outer.aborted) this.cancel(outer.reason);
      else outer.addEventListener('abort', () => this.cancel(outer.reason), { once: true });
    }
  }

  cancel(reason?: unknown): void {
    if (this.#ctrl.signal.aborted) return;
    this.#cancelled = true;
    this.#ctrl.abort(reason);
  }

  /** Stop the work under way (reader, workers) after a failure. */
  #stop(): void {
    if (!this.#ctrl.signal.aborted) this.#ctrl.abort('the run failed');
  }

  /** `p`, unless the run is cancelled first. */
  #guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.#aborted]);
  }

  async execute(): Promise<BatchSummary> {
    const timer = setInterval(() => this.#report(), this.#opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);
    timer.unref();
    try {
      const summary = await this.#run();
      this.#phase = 'done';
      return summary;
    } catch (e) {
      this.#phase = this.#cancelled ? 'cancelled' : 'failed';
      // when cancelled, whatever the stopped work threw (an aborted read, a stopped worker) means the cancellation
      if (this.#cancelled && !(e instanceof BatchCancelledError)) throw new BatchCancelledError(this.#ctrl.signal.reason);
      throw e;
    } finally {
      clearInterval(timer);
      this.#report();
      this.channel.end();
    }
  }

  async #run(): Promise<BatchSummary> {
    const o = this.#opts;
    const workers = positiveInt(o.workers, 'workers', availableParallelism());
    const batchRows = positiveInt(o.batchRows, 'batchRows', DEFAULT_BATCH_ROWS);
    const onError = o.onError ?? 'fail';
    if (!['fail', 'skip', 'null'].includes(onError)) throw new BatchScoringError(`onError must be fail, skip or null, got ${JSON.stringify(onError)}`);
    const format = o.format ?? tableFormatForFile(o.output);
    if (format === undefined || !(TABLE_FORMATS as readonly string[]).includes(format)) {
      throw new BatchScoringError(
        o.format === undefined
          ? `cannot tell the output format from ${o.output}: name it .parquet, .arrow, .arrows, .csv or .jsonl, or pass the format (parquet, arrow, arrow-stream, csv, jsonl)`
          : `unknown output format ${JSON.stringify(o.format)}: use parquet, arrow, arrow-stream, csv or jsonl`,
      );
    }
    if (o.compression !== undefined && format !== 'parquet' && o.compression !== 'none') {
      throw new BatchScoringError(`compression ${o.compression} is only for Parquet output; ${format} is written uncompressed`);
    }

    this.#inputs = await resolveInputs(o.inputs);
    this.#files = this.#inputs.map(() => ({ numRows: undefined, readRows: 0, doneRows: 0, readToEnd: false }));
    const clash = this.#inputs.find((f) => samePath(f.path, o.output));
    if (clash) throw new BatchScoringError(`the output ${o.output} is also an input: write the predictions to another file`);

    const dir = typeof o.model === 'string' ? await openModelDir(o.model, { resolver: o.resolver }) : o.model;
    // at once: the model loading (threads or a process pool), the output's temporary file, and
    // the first input's reader starting (Parquet/Arrow: its schema only serves the
    // timezone check, which the MLmodel's own signature answers; a CSV file waits for the model's)
    const first = this.#inputs[0]!.path;
    const early = tableFormatForFile(first) !== 'csv';
    // (each through an async step: one throwing at once must not leave the others unwatched)
    const [scorerR, writerR, readerR] = await Promise.allSettled([
      (async () => this.#openModel(dir, workers))(),
      (async () => openOutput(o.output, format, o.compression))(),
      (async () => (early ? openTableReader(first, { batchRows, schema: dir.mlmodel.signature?.inputs ?? null, signal: this.#ctrl.signal }) : null))(),
    ]);
    if (scorerR.status === 'rejected' || writerR.status === 'rejected' || readerR.status === 'rejected') {
      if (scorerR.status === 'fulfilled') await scorerR.value.close();
      if (writerR.status === 'fulfilled') await writerR.value.abort();
      if (readerR.status === 'fulfilled') await readerR.value?.close();
      throw [scorerR, writerR, readerR].find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
    }
    const scorer = scorerR.value;
    const writer = writerR.value;
    try {
      this.#phase = 'scoring';
      this.#scoringStarted = performance.now();
      this.#report();
      const settings: ChunkSettings = { params: o.params ?? null, onError, outputNames: outputNames(scorer.signature?.outputs ?? null) };
      await this.#pipeline(scorer, writer, settings, batchRows, o.keepColumns ?? 'all', o.columns ?? null, readerR.value);
      this.#phase = 'finishing';
      // not cancellable: the footer is a moment's work, and then the output is complete
      await writer.close();
    } catch (e) {
      this.#stop();
      await writer.abort();
      await readerR.value?.close();
      throw e;
    } finally {
      await scorer.close();
    }
    const seconds = (performance.now() - this.#started) / 1000;
    const rowsDone = this.#rowsScored + this.#rowsSkipped + this.#rowsNulled;
    return {
      output: o.output,
      format,
      files: this.#inputs.length,
      flavor: scorer.flavor,
      mode: scorer.mode,
      workers: scorer.parallelism,
      rows: this.#rowsRead,
      rowsWritten: this.#rowsWritten,
      rowsScored: this.#rowsScored,
      rowsSkipped: this.#rowsSkipped,
      rowsNulled: this.#rowsNulled,
      seconds,
      rowsPerSecond: seconds > 0 ? rowsDone / seconds : 0,
      peakRssBytes: Math.max(this.#peakRss, peakRss()),
      outputBytes: (await stat(o.output)).size,
      failures: this.#failures,
      failureCount: this.#failureCount,
    };
  }

  /** Load the model: in worker threads for in-process flavors, here otherwise. */
  async #openModel(dir: ModelDir, workers: number): Promise<Scorer> {
    const o = this.#opts;
    const registry = createRegistry();
    for (const p of o.plugins ?? []) await registry.loadPlugin(p);
    const flavorOptions = o.flavorOptions ?? {};
    registry.checkOptions(flavorOptions);
    const flavor = registry.pick(dir, o.flavor);
    const start: Promise<Scorer> =
      flavor.runsInProcess === true
        ? ThreadScorer.start({
            dir,
            flavor: flavor.name,
            // one onnxruntime thread per worker: the workers are the parallelism (an explicit setting, or the MLmodel's, still wins)
            options: { defaultIntraOpNumThreads: 1, ...flavorOptions },
            plugins: o.plugins ?? [],
            workers,
            logger: this.#logger,
          })
        : MainScorer.start({
            dir,
            registry,
            flavor: flavor.name,
            options: flavor.name === 'python_function' ? pythonOptions(flavorOptions, workers) : flavorOptions,
            logger: this.#logger,
          });
    let scorer: Scorer;
    try {
      scorer = await this.#guard(start);
    } catch (e) {
      // cancelled while loading: release the model once it is loaded
      void start.then((s) => s.close()).catch(() => undefined);
      throw e;
    }
    this.#scorer = scorer;
    return scorer;
  }

  /** Chunks of every input in order, each file closed once read (or when the run stops); `first` is the first file's reader when already open. */
  async *#chunks(schemaInputs: Parameters<typeof openTableReader>[1], files: readonly InputFile[], first: TableReader | null): AsyncGenerator<SourceChunk> {
    for (const [i, f] of files.entries()) {
      this.#currentFile = i;
      const reader = i === 0 && first !== null ? first : await openTableReader(f.path, { ...schemaInputs, signal: this.#ctrl.signal });
      this.#files[i]!.numRows = reader.numRows;
      try {
        for await (const c of reader) {
          this.#files[i]!.readRows += c.numRows;
          yield { file: f.path, fileIndex: i, rowOffset: c.rowOffset, rows: c.numRows, batch: c.batch };
        }
      } finally {
        await reader.close();
      }
      this.#files[i]!.readToEnd = true;
    }
    this.#currentFile = null;
  }

  async #pipeline(
    scorer: Scorer,
    writer: OutputWriter,
    settings: ChunkSettings,
    batchRows: number,
    keep: KeepColumns,
    columns: readonly string[] | null,
    first: TableReader | null,
  ): Promise<void> {
    const source = this.#chunks({ batchRows, schema: scorer.signature?.inputs ?? null }, this.#inputs, first);
    const maxInFlight = 2 * scorer.parallelism + 1;
    const window: Entry[] = [];
    const pull = (): Promise<IteratorResult<SourceChunk>> => {
      const p = source.next();
      p.catch(() => undefined); // awaited below; not unhandled while the loop waits for a chunk to be scored
      return p;
    };
    let next: Promise<IteratorResult<SourceChunk>> | null = pull();
    try {
      for (;;) {
        const canRead = next !== null && window.length < maxInFlight;
        if (!canRead && window.length === 0) break;
        const waits: Promise<'head' | 'read'>[] = [];
        if (window.length > 0) waits.push(window[0]!.settled.then(() => 'head' as const));
        if (canRead) waits.push(next!.then(() => 'read' as const));
        const event = await this.#guard(Promise.race(waits));
        if (event === 'read') {
          const r = await next!;
          if (r.done) next = null;
          else {
            window.push(this.#dispatch(scorer, r.value, settings, keep, columns));
            next = pull();
          }
        } else {
          await this.#complete(window, writer, settings.onError);
        }
      }
      if (this.#rowsWritten === 0) await this.#writeWhenEmpty(writer, scorer);
    } catch (e) {
      this.#stop();
      throw e;
    } finally {
      // stop the reader (a read in progress ends on the abort signal)
      if (next !== null) await next.catch(() => undefined);
      await source.return(undefined).catch(() => undefined);
    }
  }

  #dispatch(scorer: Scorer, c: SourceChunk, settings: ChunkSettings, keep: KeepColumns, columns: readonly string[] | null): Entry {
    this.#rowsRead += c.rows;
    const kept = keptColumns(c.batch, keep, c.file);
    const input = columns ? selectColumns(c.batch, columns, c.file, '--columns') : c.batch;
    const { batch: _batch, ...chunk } = c;
    if (c.rows === 0 && this.#emptyKept === undefined) this.#emptyKept = kept;
    const scored = c.rows === 0 ? Promise.resolve([] as RangeOutcome[]) : scorer.score(input, kept, settings, this.#ctrl.signal);
    const entry: Entry = {
      chunk,
      kept,
      value: undefined,
      settled: scored.then(
        (outcomes): Settled => {
          const first = outcomes.find((x) => 'prediction' in x);
          if (first && this.#layout === null && 'prediction' in first) this.#layout = zeroRows(first.prediction, 0);
          return (entry.value = { ok: true, outcomes });
        },
        (error: unknown): Settled => (entry.value = { ok: false, error }),
      ),
    };
    return entry;
  }

  /** Write the oldest chunk of the window (scored), with its failures handled as `onError` says. */
  async #complete(window: Entry[], writer: OutputWriter, onError: OnError): Promise<void> {
    const head = window[0]!;
    const settled = head.value!;
    if (!settled.ok) throw settled.error;
    const { chunk, kept } = head;
    const outcomes = settled.outcomes;
    const failed = outcomes.filter((x) => 'error' in x);
    const scored = outcomes.filter((x): x is Extract<RangeOutcome, { prediction: Batch }> => 'prediction' in x);
    for (const f of failed) {
      const failure: ChunkFailure = { file: chunk.file, rowStart: chunk.rowOffset + f.start, rowEnd: chunk.rowOffset + f.end, error: this.#withHint(f.error) };
      if (onError === 'fail') throw new ChunkScoringError(failure);
      this.#failureCount++;
      if (this.#failures.length < MAX_SUMMARY_FAILURES) this.#failures.push(failure);
      this.channel.fail(failure);
    }
    if (failed.length > 0 && onError === 'null' && scored.length === 0 && this.#layout === null) {
      // the prediction columns are not known yet: wait for the chunks after this one
      await this.#guard(Promise.all(window.map((e) => e.settled)));
      if (this.#layout === null) {
        throw new BatchScoringError(
          `with --on-error null the prediction columns must be known from a scored row, but no row of the first ${window.length} chunks could be scored; ` +
            `first failure: ${describeFailure(this.#failures[0]!)}`,
        );
      }
    }
    const parts = this.#outputParts(chunk, kept, outcomes, scored, onError);
    window.shift();
    const failedRows = failed.reduce((n, f) => n + f.end - f.start, 0);
    if (parts !== null) {
      const rows = rowsOf(parts[0]!.batch);
      await writer.write(parts, `${chunk.file} rows ${chunk.rowOffset}–${chunk.rowOffset + chunk.rows - 1}`);
      this.#rowsWritten += rows;
    }
    this.#rowsScored += chunk.rows - failedRows;
    if (onError === 'skip') this.#rowsSkipped += failedRows;
    else this.#rowsNulled += failedRows;
    const file = this.#files[chunk.fileIndex]!;
    file.doneRows += chunk.rows;
    if (failed.length > 0) this.#report();
  }

  /**
   * A schema error of a model whose signature is one unnamed tensor, on a table given whole: the
   * table has columns the model does not take, most likely (MLflow's message speaks of shapes).
   */
  #withHint(error: ErrorInfo): ErrorInfo {
    const inputs = this.#scorer?.signature?.inputs;
    const unnamedTensor = inputs?.kind === 'tensors' && inputs.specs.length === 1 && inputs.specs[0]!.name === null;
    if (!unnamedTensor || this.#opts.columns || error.name !== 'InputSchemaError') return error;
    const hint = ' (choose the input columns the model takes with --columns, or the columns option)';
    return { ...error, message: error.message + hint, detail: error.detail === undefined ? undefined : error.detail + hint };
  }

  /** The output rows of a chunk as side-by-side parts (kept columns, predictions), or null when none are left. */
  #outputParts(
    chunk: Entry['chunk'],
    kept: Batch | null,
    outcomes: readonly RangeOutcome[],
    scored: readonly Extract<RangeOutcome, { prediction: Batch }>[],
    onError: OnError,
  ): TablePart[] | null {
    if (chunk.rows === 0) return null;
    let predictions: Batch;
    let keptRows = kept;
    let rowValidity: Uint8Array | undefined;
    if (scored.length === outcomes.length) {
      predictions = concatPredictions(
        scored.map((s) => s.prediction),
        chunk,
      );
    } else if (onError === 'skip') {
      if (scored.length === 0) return null;
      predictions = concatPredictions(
        scored.map((s) => s.prediction),
        chunk,
      );
      keptRows = kept && concatRows(scored.map((s) => sliceRows(kept, s.start, s.end)));
    } else {
      const template = scored[0]?.prediction ?? this.#layout!;
      rowValidity = new Uint8Array(chunk.rows);
      const pieces = outcomes.map((x) => {
        if ('prediction' in x) {
          rowValidity!.fill(1, x.start, x.end);
          return x.prediction;
        }
        return zeroRows(template, x.end - x.start);
      });
      predictions = concatPredictions(pieces, chunk);
    }
    if (keptRows !== null) {
      const names = new Set(columnNames(keptRows));
      const clash = columnNames(predictions).find((n) => names.has(n));
      if (clash !== undefined) {
        throw new BatchScoringError(
          `the prediction column '${clash}' has the name of an input column kept in the output: leave that input column out with --keep-columns (or keepColumns), e.g. --keep-columns none`,
        );
      }
    }
    const parts: TablePart[] = keptRows === null ? [] : [{ batch: keptRows }];
    parts.push({ batch: predictions, rowValidity });
    return parts;
  }

  /** A run whose inputs hold no rows: an empty table with the kept columns and the prediction columns the output signature describes. */
  async #writeWhenEmpty(writer: OutputWriter, scorer: Scorer): Promise<void> {
    if (this.#rowsRead > 0) {
      const first = this.#failures[0];
      throw new BatchScoringError(`no row could be scored (${this.#rowsSkipped} skipped)${first ? `; first failure: ${describeFailure(first)}` : ''}`);
    }
    const predictions = this.#layout ?? emptyPredictionColumns(scorer.signature?.outputs ?? null);
    if (predictions === null) {
      throw new BatchScoringError(
        'the inputs hold no rows, and the model has no output signature with fixed shapes to tell the prediction columns: nothing to write',
      );
    }
    const kept = this.#emptyKept ?? null;
    await writer.write(kept === null ? [{ batch: predictions }] : [{ batch: kept }, { batch: predictions }], '');
  }

  #report(): void {
    const now = performance.now();
    const elapsedMs = now - this.#started;
    const rowsDone = this.#rowsScored + this.#rowsSkipped + this.#rowsNulled;
    this.#rates.push({ t: now, rows: rowsDone });
    while (this.#rates.length > 2 && now - this.#rates[0]!.t > 10_000) this.#rates.shift();
    const oldest = this.#rates[0]!;
    const rowsPerSecond = now > oldest.t ? ((rowsDone - oldest.rows) * 1000) / (now - oldest.t) : 0;
    const rss = process.memoryUsage.rss();
    this.#peakRss = Math.max(this.#peakRss, rss, peakRss());
    const totalBytes = this.#inputs.reduce((n, f) => n + f.bytes, 0);
    let doneBytes = 0;
    // a file being read whose row count is not known up front (CSV, Arrow streams): no estimate until it is done
    let unknown = false;
    this.#files.forEach((f, i) => {
      const finished = f.readToEnd && f.doneRows === f.readRows;
      let share: number;
      if (f.numRows !== undefined) share = f.numRows > 0 ? Math.min(1, f.doneRows / f.numRows) : finished ? 1 : 0;
      else {
        share = finished ? 1 : 0;
        if (!finished && f.readRows > 0) unknown = true;
      }
      doneBytes += share * this.#inputs[i]!.bytes;
    });
    const fraction = this.#phase === 'done' ? 1 : this.#inputs.length === 0 || unknown ? null : totalBytes > 0 ? doneBytes / totalBytes : 0;
    const known = this.#files.every((f) => f.numRows !== undefined);
    // the pace since scoring started (model loading excluded)
    const scoringMs = this.#scoringStarted === null ? 0 : now - this.#scoringStarted;
    const etaMs = fraction !== null && fraction > 0 && fraction < 1 ? (scoringMs * (1 - fraction)) / fraction : fraction === 1 ? 0 : null;
    const snapshot: Omit<BatchProgress, 'failures' | 'failuresOmitted'> = {
      phase: this.#phase,
      files: this.#inputs.length,
      filesDone: this.#files.filter((f) => f.readToEnd && f.doneRows === f.readRows).length,
      file: this.#currentFile === null ? null : (this.#inputs[this.#currentFile]?.path ?? null),
      rowsRead: this.#rowsRead,
      rowsDone,
      rowsScored: this.#rowsScored,
      rowsSkipped: this.#rowsSkipped,
      rowsNulled: this.#rowsNulled,
      rowsWritten: this.#rowsWritten,
      totalRows: known && this.#files.length > 0 ? this.#files.reduce((n, f) => n + f.numRows!, 0) : null,
      fraction,
      elapsedMs,
      rowsPerSecond,
      etaMs,
      workers: this.#scorer?.parallelism ?? 0,
      workersBusy: this.#scorer?.busy ?? 0,
      rssBytes: rss,
      peakRssBytes: this.#peakRss,
    };
    this.channel.push(snapshot);
  }
}

/** The predictions of a chunk's ranges, in order, as one batch (an error naming the chunk when the model changed its output's layout). */
function concatPredictions(parts: readonly Batch[], chunk: Entry['chunk']): Batch {
  const key = batchLayoutKey(parts[0]!);
  if (parts.some((p) => batchLayoutKey(p) !== key)) {
    throw new BatchScoringError(
      `${chunk.file} rows ${chunk.rowOffset}–${chunk.rowOffset + chunk.rows - 1}: the model returned different columns or types for different rows of the chunk`,
    );
  }
  return concatRows(parts);
}
