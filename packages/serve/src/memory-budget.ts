/**
 * Admission of large requests by memory. Each request whose body is at least `minBodyBytes`
 * reserves an estimate of the memory it will use (`factor` × its body: the body, the decoded
 * input, the prediction and the encoded answer) before it is decoded, and gives it back when its
 * response has been sent. A request that does not fit next to those in progress is refused with
 * 503 and Retry-After instead of running the server out of memory; one that is larger than the
 * whole budget still runs when it is alone. Smaller requests are not counted: they cost nothing
 * here.
 */
import { totalmem } from 'node:os';
import { MemoryBudgetError } from './errors.js';

const MB = 1024 * 1024;

/** Per process: a quarter of the memory (the machine's, or the container's limit when lower), at most 2 GiB. */
export function defaultMemoryBudgetBytes(): number {
  // constrainedMemory: the cgroup limit (Node ≥ 19.6); 0 or undefined when there is none
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const memory = Math.min(totalmem(), limit !== undefined && limit > 0 ? limit : Infinity);
  return Math.min(2048 * MB, Math.floor(memory / 4));
}

/** Bodies below this are not counted. */
export const DEFAULT_BUDGETED_BODY_BYTES = MB;
/**
 * Memory a request is expected to need, in multiples of its body: a 99 MB iris request to the onnx
 * model peaks at ~6.3× (its 412 MB answer is most of it); 8× is the bound the server keeps to.
 */
export const DEFAULT_MEMORY_FACTOR = 8;

export interface MemoryBudgetOptions {
  readonly limitBytes: number;
  readonly factor?: number;
  readonly minBodyBytes?: number;
}

/** A request's share of the budget; `release` is idempotent. */
export interface MemoryReservation {
  readonly bytes: number;
  release(): void;
}

export class MemoryBudget {
  readonly limitBytes: number;
  readonly factor: number;
  readonly minBodyBytes: number;
  #reserved = 0;
  #holders = 0;

  constructor(opts: MemoryBudgetOptions) {
    this.limitBytes = opts.limitBytes;
    this.factor = opts.factor ?? DEFAULT_MEMORY_FACTOR;
    this.minBodyBytes = opts.minBodyBytes ?? DEFAULT_BUDGETED_BODY_BYTES;
  }

  /** Bytes reserved by requests in progress. */
  get reservedBytes(): number {
    return this.#reserved;
  }

  /**
   * Reserve memory for a request with a body of `bodyBytes`; null for small bodies (not counted).
   * Throws `MemoryBudgetError` (503 + Retry-After) when it does not fit next to the requests in progress.
   */
  reserve(bodyBytes: number): MemoryReservation | null {
    if (bodyBytes < this.minBodyBytes) return null;
    const bytes = bodyBytes * this.factor;
    if (this.#holders > 0 && this.#reserved + bytes > this.limitBytes) {
      // about the time the requests in progress take to finish: longer for larger ones
      const retry = Math.min(30, Math.max(1, Math.ceil(this.#reserved / (200 * MB))));
      throw new MemoryBudgetError(Math.ceil(bytes / MB), Math.ceil(this.#reserved / MB), Math.floor(this.limitBytes / MB), retry);
    }
    this.#reserved += bytes;
    this.#holders++;
    let held = true;
    return {
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        this.#reserved -= bytes;
        this.#holders--;
      },
    };
  }
}
