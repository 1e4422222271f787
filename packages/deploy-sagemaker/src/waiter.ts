/**
 * Polling with an interval, a timeout and a progress line on each change, with the clock and
 * the sleep injectable (tests run in milliseconds; the CLI polls every 5 s for up to 1200 s, as
 * MLflow does).
 */
import { DeployTimeoutError } from './errors.js';

export interface WaitSettings {
  /** Between polls (default 5000 ms). */
  readonly intervalMs?: number;
  /** Give up after (default 1200 s). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_POLL_INTERVAL_MS = 5_000;
export const DEFAULT_TIMEOUT_MS = 1_200_000;

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll until `done(state)` is true and return that state. `label(state)` is what the progress
 * reports (reported when it changes). Throws DeployTimeoutError with `what` and the last label.
 */
export async function waitFor<T>(
  what: string,
  poll: () => Promise<T>,
  done: (state: T) => boolean,
  label: (state: T) => string,
  settings: WaitSettings = {},
  onProgress?: (line: string) => void,
): Promise<T> {
  const now = settings.now ?? Date.now;
  const sleep = settings.sleep ?? realSleep;
  const interval = settings.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const timeout = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const start = now();
  let last: string | null = null;
  for (;;) {
    const state = await poll();
    const l = label(state);
    if (l !== last) {
      onProgress?.(`${what}: ${l} (${((now() - start) / 1000).toFixed(1)} s)`);
      last = l;
    }
    if (done(state)) return state;
    if (now() - start + interval > timeout) {
      throw new DeployTimeoutError(`timed out after ${(timeout / 1000).toFixed(timeout % 1000 === 0 ? 0 : 1)} s waiting for ${what} (last status: ${l})`, l);
    }
    await sleep(interval);
  }
}
