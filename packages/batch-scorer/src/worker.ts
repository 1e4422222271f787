/**
 * A piscina worker thread of the batch scorer: it opens the model once, when the thread starts
 * (from `workerData`: the model directory, flavor, load options and plugins), and then scores the
 * chunks it is sent with `scoreChunk`. Inputs arrive moved (or copied when the main thread keeps
 * some of their columns for the output); predictions go back moved, not copied.
 *
 * Errors never escape as exceptions: a chunk's failures come back as data (the main thread
 * reports them with the file and rows), and a model that cannot be loaded is answered as such.
 */
import { workerData } from 'node:worker_threads';
import { ModelRunner, createRegistry, toWire, type FlavorLogger, type ModelCapabilities } from '@mlmodel/flavors';
import { batchFromTransferable, type ModelSignature, type TransferableBatch } from '@mlmodel/format';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { errorInfo, type ErrorInfo } from './errors.js';
import { scoreChunk, type ChunkSettings } from './score-chunk.js';

/** What every worker gets at start (plain data). */
export interface WorkerSetup {
  readonly modelDir: string;
  readonly flavor: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** Plugin specifiers, resolved against `cwd`. */
  readonly plugins: readonly string[];
  readonly cwd: string;
}

export interface ScoreTask {
  readonly input: TransferableBatch;
  readonly settings: ChunkSettings;
}

export type WireOutcome =
  | { readonly start: number; readonly end: number; readonly prediction: TransferableBatch }
  | { readonly start: number; readonly end: number; readonly error: ErrorInfo };

export type ScoreReply = { readonly ok: true; readonly outcomes: readonly WireOutcome[] } | { readonly ok: false; readonly loadError: ErrorInfo };

export type DescribeReply =
  | {
      readonly ok: true;
      readonly flavor: string;
      readonly signature: ModelSignature | null;
      readonly capabilities: ModelCapabilities;
      readonly log: readonly string[];
    }
  | { readonly ok: false; readonly loadError: ErrorInfo };

const setup = workerData as WorkerSetup;
const log: string[] = [];
const logger: FlavorLogger = { info: (m) => log.push(m), warn: (m) => log.push(`warning: ${m}`) };

async function open(): Promise<ModelRunner> {
  const registry = createRegistry();
  for (const p of setup.plugins) await registry.loadPlugin(p, setup.cwd);
  return ModelRunner.open(setup.modelDir, { registry, flavor: setup.flavor, options: setup.options, logger });
}

const runner = open();
// a load failure is answered to every task; not an unhandled rejection meanwhile
runner.catch(() => undefined);

/** A value posted with the ArrayBuffers it lists moved instead of copied. */
function moving<T>(value: T, transfer: readonly ArrayBuffer[]): T {
  return move({ [transferableSymbol]: transfer, [valueSymbol]: value } as never) as T;
}

/** Score one chunk (piscina's default task). */
export default async function score(task: ScoreTask): Promise<ScoreReply> {
  let r: ModelRunner;
  try {
    r = await runner;
  } catch (e) {
    return { ok: false, loadError: errorInfo(e) };
  }
  const outcomes = await scoreChunk(r, batchFromTransferable(task.input), task.settings);
  const transfer = new Set<ArrayBuffer>();
  const wire = outcomes.map((o): WireOutcome => {
    if (!('prediction' in o)) return o;
    // (views on part of a buffer are copied first, so moving a buffer takes nothing else along)
    const { value, transfer: buffers } = toWire(o.prediction);
    for (const b of buffers) transfer.add(b);
    return { start: o.start, end: o.end, prediction: value as TransferableBatch };
  });
  return moving<ScoreReply>({ ok: true, outcomes: wire }, [...transfer]);
}

/** The loaded model's flavor, signature and capabilities, and its load log (once). */
export async function describe(): Promise<DescribeReply> {
  try {
    const r = await runner;
    return { ok: true, flavor: r.flavor, signature: r.signature, capabilities: r.capabilities, log: log.splice(0) };
  } catch (e) {
    return { ok: false, loadError: errorInfo(e) };
  }
}
