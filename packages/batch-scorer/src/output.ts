/**
 * The output table: format's `TableWriter` (a temporary file next to the destination, renamed into
 * place on close), with Parquet dictionary encoding left to the columns that gain from it, and
 * write errors that name the chunk being written.
 *
 * Parquet and Arrow are written on the main thread: with dictionaries off for floating-point
 * columns, encoding a chunk takes less than reading or scoring it, and an output thread measured
 * slower on two cores (its start-up competes with the model's). CSV and JSON lines are built in an
 * output thread (`write-worker.ts`): making their text is the slowest step of such a run.
 */
import { Worker } from 'node:worker_threads';
import { toWire } from '@mlmodel/flavors';
import { TableWriteError, type ParquetCompression, type TableFormat, type TablePart, type TableWriter, type TableWriterOptions } from '@mlmodel/format';
import { openTableWriter } from '@mlmodel/format/table';
import { BatchScoringError, shortMessage, type ErrorInfo } from './errors.js';
import { workerFile } from './worker-file.js';
import type { WirePart, WriteReply, WriteRequest } from './write-worker.js';

/**
 * How the output is written: the format, its compression, and for Parquet dictionary encoding
 * except for floating-point columns (predictions are floats that rarely repeat; building their
 * dictionaries before falling back to plain encoding takes several times the rest of the write).
 */
export function outputOptions(format: TableFormat, compression: ParquetCompression | undefined): TableWriterOptions {
  return { format, ...(compression ? { compression } : {}), ...(format === 'parquet' ? { dictionary: 'auto' as const } : {}) };
}

/** Where the output is written: this thread (`LocalWriter`) or the output thread (`ThreadWriter`). */
export interface OutputWriter {
  /** Append side-by-side parts (their buffers may move away: unusable afterwards); `label` (`FILE rows a–b`) names them when the writer refuses them. */
  write(parts: readonly TablePart[], label: string): Promise<void>;
  /** Finish the file and move it into place. */
  close(): Promise<void>;
  /** Remove the temporary file. */
  abort(): Promise<void>;
}

/** The output for `format`: text formats in the output thread, the others here. */
export function openOutput(path: string, format: TableFormat, compression: ParquetCompression | undefined): Promise<OutputWriter> {
  return format === 'csv' || format === 'jsonl' ? ThreadWriter.open(path, format) : LocalWriter.open(path, format, compression);
}

function refused(label: string, message: string, cause: unknown, errorCode: ErrorInfo['errorCode'], userError: boolean | undefined): BatchScoringError {
  return new BatchScoringError(`${label}: cannot be written: ${message}`, errorCode ?? 'INVALID_PARAMETER_VALUE', { cause, userError: userError ?? true });
}

export class LocalWriter implements OutputWriter {
  private constructor(private readonly writer: TableWriter) {}

  static async open(path: string, format: TableFormat, compression: ParquetCompression | undefined): Promise<LocalWriter> {
    return new LocalWriter(await openTableWriter(path, outputOptions(format, compression)));
  }

  async write(parts: readonly TablePart[], label: string): Promise<void> {
    try {
      await this.writer.write(parts);
    } catch (e) {
      if (e instanceof TableWriteError && label) throw refused(label, e.message, e, e.errorCode, e.userError);
      throw e;
    }
  }

  close(): Promise<void> {
    return this.writer.close();
  }

  abort(): Promise<void> {
    return this.writer.abort();
  }
}

/** Most writes queued for the output thread: one being encoded, one waiting. */
export const MAX_QUEUED_WRITES = 2;

interface Pending {
  readonly label: string;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/**
 * The output thread's writer: a write moves its parts there and returns once at most
 * `MAX_QUEUED_WRITES` are queued, so encoding overlaps with the next chunk and memory stays
 * bounded; a failed write is reported by a later write or by `close`.
 */
export class ThreadWriter implements OutputWriter {
  readonly #worker: Worker;
  readonly #pending: Pending[] = [];
  readonly #queued: Promise<void>[] = [];
  #failure: Error | null = null;
  #dead = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: WriteReply) => {
      const p = this.#pending.shift();
      if (!p) return;
      if (reply.ok) p.resolve();
      else if (reply.tableWriteError && p.label) p.reject(refused(p.label, reply.error.message, undefined, reply.error.errorCode, reply.error.userError));
      else
        p.reject(
          new BatchScoringError(shortMessage(reply.error), reply.error.errorCode ?? 'INVALID_PARAMETER_VALUE', { userError: reply.error.userError ?? true }),
        );
    });
    const gone = (why: string): void => {
      if (this.#dead) return;
      this.#dead = true;
      const e = new BatchScoringError(`the output thread stopped: ${why}`, 'INTERNAL_ERROR', { userError: false });
      this.#failure ??= e;
      for (const p of this.#pending.splice(0)) p.reject(e);
    };
    worker.on('error', (e) => gone(e.message));
    worker.on('exit', (code) => gone(`it exited with code ${code}`));
  }

  static async open(path: string, format: TableFormat): Promise<ThreadWriter> {
    const w = new ThreadWriter(new Worker(new URL(workerFile('write-worker'))));
    try {
      await w.#request({ type: 'open', path, format }, [], '');
    } catch (e) {
      await w.#worker.terminate();
      throw e;
    }
    return w;
  }

  #request(req: WriteRequest, transfer: readonly ArrayBuffer[], label: string, afterFailure = false): Promise<void> {
    if (this.#dead || (this.#failure !== null && !afterFailure)) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ label, resolve, reject });
      this.#worker.postMessage(req, transfer as ArrayBuffer[]);
    });
  }

  async write(parts: readonly TablePart[], label: string): Promise<void> {
    if (this.#failure) throw this.#failure;
    const transfer: ArrayBuffer[] = [];
    const wire: WirePart[] = parts.map((p) => {
      // (views on part of a buffer are copied first: moving a buffer takes nothing else along)
      const { value, transfer: t } = toWire(p.batch);
      transfer.push(...t);
      return { batch: value, rowValidity: p.rowValidity?.slice() };
    });
    const done = this.#request({ type: 'write', parts: wire }, transfer, label);
    done.catch((e: Error) => (this.#failure ??= e));
    this.#queued.push(done);
    while (this.#queued.length > MAX_QUEUED_WRITES) await this.#queued.shift();
  }

  /** After every queued write; on failure the thread stays for `abort` (which removes the temporary file). */
  async close(): Promise<void> {
    for (const q of this.#queued.splice(0)) await q;
    await this.#request({ type: 'close' }, [], '');
    await this.#worker.terminate();
  }

  async abort(): Promise<void> {
    try {
      await Promise.allSettled(this.#queued.splice(0));
      await this.#request({ type: 'abort' }, [], '', true);
    } catch {
      // the thread is gone: its temporary file (hidden, next to the output) stays
    } finally {
      await this.#worker.terminate();
    }
  }
}
