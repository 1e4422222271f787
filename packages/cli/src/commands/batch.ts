/**
 * `mlmodel batch`: score Parquet, Arrow and CSV files into one output table with
 * `@mlmodel/batch-scorer`, showing progress (a live bar on a terminal, JSON lines otherwise) and a
 * final summary. SIGINT/SIGTERM stop the run and leave nothing at the destination.
 */
import { InvalidArgumentError } from 'commander';
import {
  BatchCancelledError,
  describeFailure,
  scoreFiles,
  type BatchProgress,
  type BatchSummary,
  type ChunkFailure,
  type KeepColumns,
  type OnError,
} from '@mlmodel/batch-scorer';
import { TABLE_FORMATS, type ParquetCompression, type TableFormat } from '@mlmodel/format';
import { loadOptions, modelResolver, pluginSpecifiers, type ModelLoadingCliOptions } from '../args.js';
import { catchInterrupts, signalExitCode } from '../interrupts.js';
import type { Io } from '../output.js';

/** Exit codes of `mlmodel batch` beyond the shared ones (0 ok, 1 error, 2 usage). */
export const EXIT_ROWS_FAILED = 3;

export interface BatchCliOptions extends ModelLoadingCliOptions {
  model: string;
  input: string[];
  output: string;
  format?: string;
  workers?: string;
  batchRows?: string;
  columns?: string;
  keepColumns?: string;
  onError?: string;
  compression?: string;
  params?: string;
  progress?: string;
  progressInterval?: string;
  json?: boolean;
}

/** Where progress goes, and whether stderr is a terminal (a live bar) or not (JSON lines). */
export interface BatchTerminal {
  readonly stderrIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  /** Raw writes to stderr (the bar redraws its line). */
  readonly writeErr: (s: string) => void;
  readonly columns: number;
}

const processTerminal = (): BatchTerminal => ({
  stderrIsTTY: process.stderr.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
  writeErr: (s) => void process.stderr.write(s),
  columns: process.stderr.columns ?? 100,
});

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a whole number ≥ 1, got ${v}`);
  return n;
}

function nameList(v: string, flag: string): string[] {
  const names = v.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new InvalidArgumentError(`${flag} takes comma-separated column names, got ${JSON.stringify(v)}`);
  return names;
}

function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new InvalidArgumentError(`${flag} must be ${allowed.join(', ')}; got ${v}`);
  return v as T;
}

function params(v: string | undefined): Record<string, unknown> | null {
  if (v === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new InvalidArgumentError(`--params must be a JSON object, e.g. '{"temperature": 0.5}': ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError(`--params must be a JSON object, got ${v}`);
  return parsed as Record<string, unknown>;
}

const MIB = 1024 * 1024;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MiB`;

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** The live progress line. */
export function progressLine(p: BatchProgress, width: number): string {
  const parts: string[] = [];
  if (p.fraction !== null) {
    const barWidth = 24;
    const full = Math.round(Math.min(1, p.fraction) * barWidth);
    parts.push(`[${'#'.repeat(full)}${'.'.repeat(barWidth - full)}] ${String(Math.floor(p.fraction * 100)).padStart(3)}%`);
  }
  parts.push(p.totalRows !== null ? `${int(p.rowsDone)}/${int(p.totalRows)} rows` : `${int(p.rowsDone)} rows`);
  parts.push(`${int(p.rowsPerSecond)} rows/s`);
  if (p.etaMs !== null && p.phase === 'scoring') parts.push(`ETA ${clock(p.etaMs)}`);
  parts.push(`workers ${p.workersBusy}/${p.workers} busy`);
  if (p.rowsSkipped > 0) parts.push(`${int(p.rowsSkipped)} skipped`);
  if (p.rowsNulled > 0) parts.push(`${int(p.rowsNulled)} nulled`);
  if (p.phase === 'loading') parts.unshift('loading the model…');
  const line = parts.join('  ');
  return line.length > width - 1 ? line.slice(0, width - 1) : line;
}

/** A progress snapshot as one JSON line. */
function progressJson(p: BatchProgress): string {
  return JSON.stringify({
    event: 'progress',
    phase: p.phase,
    files: p.files,
    files_done: p.filesDone,
    file: p.file,
    rows_read: p.rowsRead,
    rows_done: p.rowsDone,
    rows_scored: p.rowsScored,
    rows_skipped: p.rowsSkipped,
    rows_nulled: p.rowsNulled,
    rows_written: p.rowsWritten,
    total_rows: p.totalRows,
    fraction: p.fraction === null ? null : Math.round(p.fraction * 1e4) / 1e4,
    rows_per_second: Math.round(p.rowsPerSecond),
    eta_seconds: p.etaMs === null ? null : Math.round(p.etaMs / 100) / 10,
    workers: p.workers,
    workers_busy: p.workersBusy,
    rss_bytes: p.rssBytes,
    peak_rss_bytes: p.peakRssBytes,
    elapsed_seconds: Math.round(p.elapsedMs / 100) / 10,
  });
}

function failureJson(f: ChunkFailure, onError: OnError): string {
  return JSON.stringify({
    event: 'failure',
    action: onError === 'skip' ? 'skipped' : 'nulled',
    file: f.file,
    row_start: f.rowStart,
    row_end: f.rowEnd,
    message: describeFailure(f),
  });
}

function summaryJson(s: BatchSummary): string {
  return JSON.stringify({
    output: s.output,
    format: s.format,
    files: s.files,
    flavor: s.flavor,
    mode: s.mode,
    workers: s.workers,
    rows: s.rows,
    rows_written: s.rowsWritten,
    rows_scored: s.rowsScored,
    rows_skipped: s.rowsSkipped,
    rows_nulled: s.rowsNulled,
    seconds: Math.round(s.seconds * 1000) / 1000,
    rows_per_second: Math.round(s.rowsPerSecond),
    peak_rss_bytes: s.peakRssBytes,
    output_bytes: s.outputBytes,
    failure_count: s.failureCount,
  });
}

function summaryText(s: BatchSummary): string {
  const failed = [s.rowsSkipped > 0 ? `${int(s.rowsSkipped)} skipped` : '', s.rowsNulled > 0 ? `${int(s.rowsNulled)} with null predictions` : '']
    .filter(Boolean)
    .join(', ');
  return (
    `scored ${int(s.rowsScored)} of ${int(s.rows)} rows from ${s.files} file${s.files === 1 ? '' : 's'}${failed ? ` (${failed})` : ''} ` +
    `in ${s.seconds.toFixed(1)} s: ${int(s.rowsPerSecond)} rows/s, ${s.workers} ${s.mode === 'threads' ? 'worker thread' : 'model worker'}${s.workers === 1 ? '' : 's'}, ` +
    `peak RSS ${mib(s.peakRssBytes)}; wrote ${s.output} (${int(s.rowsWritten)} rows, ${mib(s.outputBytes)})`
  );
}

/** Run `mlmodel batch`; returns the exit code (0, 3 when rows were skipped or nulled, 130/143 when interrupted). */
export async function batchCommand(o: BatchCliOptions, io: Io, term: BatchTerminal = processTerminal()): Promise<number> {
  const keep = o.keepColumns;
  const keepColumns: KeepColumns | undefined = keep === undefined ? undefined : keep === 'all' || keep === 'none' ? keep : nameList(keep, '--keep-columns');
  const onError = oneOf<OnError>(o.onError, ['fail', 'skip', 'null'], '--on-error') ?? 'fail';
  const format = oneOf<TableFormat>(o.format, TABLE_FORMATS, '--format');
  const compression = oneOf<ParquetCompression>(o.compression, ['zstd', 'snappy', 'none'], '--compression');
  const progress = oneOf(o.progress, ['auto', 'bar', 'json', 'none'] as const, '--progress') ?? 'auto';
  const intervalSeconds = o.progressInterval === undefined ? undefined : Number(o.progressInterval);
  if (intervalSeconds !== undefined && !(intervalSeconds > 0))
    throw new InvalidArgumentError(`--progress-interval must be a number of seconds > 0, got ${o.progressInterval}`);
  const mode = progress === 'auto' ? (term.stderrIsTTY ? 'bar' : 'json') : progress;
  const flavorOptions = loadOptions(o);
  const workers = positiveInt(o.workers, '--workers');
  const batchRows = positiveInt(o.batchRows, '--batch-rows');
  const columns = o.columns === undefined ? null : nameList(o.columns, '--columns');
  const inferenceParams = params(o.params);

  let barShown = false;
  const clearBar = (): void => {
    if (barShown) term.writeErr('\r\x1b[2K');
    barShown = false;
  };
  const say = (line: string): void => {
    clearBar();
    io.err(line);
  };
  const logger = {
    info: () => undefined,
    warn: (m: string) => (mode === 'json' ? io.err(JSON.stringify({ event: 'warning', message: m })) : say(`warning: ${m}`)),
  };

  const controller = new AbortController();
  // the first signal stops the run (nothing is written); a second one exits at once
  const interrupts = catchInterrupts((sig) => controller.abort(sig));

  const job = scoreFiles({
    model: o.model,
    resolver: modelResolver({ log: io.err }),
    inputs: o.input,
    output: o.output,
    format,
    compression,
    workers,
    batchRows,
    columns,
    keepColumns,
    onError,
    params: inferenceParams,
    flavor: o.flavor,
    flavorOptions,
    plugins: pluginSpecifiers(o),
    logger,
    signal: controller.signal,
    progressIntervalMs: mode === 'json' ? (intervalSeconds ?? 5) * 1000 : (intervalSeconds ?? 0.2) * 1000,
  });

  const shown = (async () => {
    for await (const p of job.progress) {
      for (const f of p.failures) {
        if (mode === 'json') io.err(failureJson(f, onError));
        else if (mode === 'bar') say(`${onError === 'skip' ? 'skipped' : 'nulled'}: ${describeFailure(f)}`);
      }
      if (p.failuresOmitted > 0 && mode !== 'none') say(`… and ${p.failuresOmitted} more failures`);
      const ended = p.phase === 'failed' || p.phase === 'cancelled';
      // a run that stops ends with its error line instead
      if (mode === 'json' && !ended) io.err(progressJson(p));
      else if (mode === 'bar' && p.phase !== 'done' && !ended) {
        term.writeErr(`\r\x1b[2K${progressLine(p, term.columns)}`);
        barShown = true;
      }
    }
    clearBar();
  })();

  try {
    const summary = await job.result;
    await shown;
    io.out(o.json || !term.stdoutIsTTY ? summaryJson(summary) : summaryText(summary));
    return summary.rowsSkipped + summary.rowsNulled > 0 ? EXIT_ROWS_FAILED : 0;
  } catch (e) {
    await shown;
    const signalled = interrupts.received;
    if (e instanceof BatchCancelledError && signalled !== null) {
      io.err(`error: interrupted by ${signalled}; no output was written`);
      return signalExitCode(signalled);
    }
    throw e;
  } finally {
    interrupts.dispose();
  }
}
