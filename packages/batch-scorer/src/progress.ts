/**
 * Progress of a run as an async stream of snapshots. Snapshots are coalesced: a slow consumer
 * gets the latest one, never a backlog; chunk failures are not lost in between (each snapshot
 * carries the failures since the one before, up to `MAX_PENDING_FAILURES`, and counts the rest).
 */
import type { ChunkFailure } from './errors.js';

export type BatchPhase = 'loading' | 'scoring' | 'finishing' | 'done' | 'failed' | 'cancelled';

export interface BatchProgress {
  readonly phase: BatchPhase;
  /** Input files, and how many were read to the end. */
  readonly files: number;
  readonly filesDone: number;
  /** The file being read (null before the first and after the last). */
  readonly file: string | null;
  readonly rowsRead: number;
  /** Rows whose predictions were written, skipped or nulled. */
  readonly rowsDone: number;
  readonly rowsScored: number;
  readonly rowsSkipped: number;
  readonly rowsNulled: number;
  readonly rowsWritten: number;
  /** Input rows, when every file says up front (Parquet, Arrow files); null otherwise. */
  readonly totalRows: number | null;
  /** The share of the input done, by bytes of the input files (null before anything is known). */
  readonly fraction: number | null;
  readonly elapsedMs: number;
  /** Rows done per second over the last seconds. */
  readonly rowsPerSecond: number;
  /** Time left at that pace, when the fraction is known. */
  readonly etaMs: number | null;
  /** Model calls that can run at once, and how many are running. */
  readonly workers: number;
  readonly workersBusy: number;
  /** This process (its worker threads included; not Python worker processes). */
  readonly rssBytes: number;
  readonly peakRssBytes: number;
  /** Chunk failures since the previous snapshot (skipped or nulled rows, or the failure that stopped the run). */
  readonly failures: readonly ChunkFailure[];
  /** Failures since the previous snapshot left out of `failures` (more than `MAX_PENDING_FAILURES`). */
  readonly failuresOmitted: number;
}

export const MAX_PENDING_FAILURES = 100;

/** The peak resident set size of this process so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Latest-snapshot channel with one consumer. */
export class ProgressChannel implements AsyncIterable<BatchProgress> {
  #latest: Omit<BatchProgress, 'failures' | 'failuresOmitted'> | null = null;
  #failures: ChunkFailure[] = [];
  #omitted = 0;
  #fresh = false;
  #ended = false;
  #wake: (() => void) | null = null;
  #iterated = false;

  /** A new snapshot (replacing one not yet taken). */
  push(snapshot: Omit<BatchProgress, 'failures' | 'failuresOmitted'>): void {
    if (this.#ended) return;
    this.#latest = snapshot;
    this.#fresh = true;
    this.#wakeUp();
  }

  /** A failure, delivered with the next snapshot. */
  fail(f: ChunkFailure): void {
    if (this.#failures.length < MAX_PENDING_FAILURES) this.#failures.push(f);
    else this.#omitted++;
  }

  /** No more snapshots after the last one pushed. */
  end(): void {
    this.#ended = true;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<BatchProgress> {
    if (this.#iterated) throw new Error('the progress of a batch run can be iterated once');
    this.#iterated = true;
    for (;;) {
      if (this.#fresh && this.#latest !== null) {
        this.#fresh = false;
        const failures = this.#failures;
        const failuresOmitted = this.#omitted;
        this.#failures = [];
        this.#omitted = 0;
        yield { ...this.#latest, failures, failuresOmitted };
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }
}
