/**
 * A bounded busy-wait that does not block the event loop. While an immediate is queued, libuv polls
 * for I/O without sleeping, so an answer that arrives on a worker's socket meanwhile is read at once
 * by a CPU that never went idle: no wake-up of a sleeping process (tens of µs on a virtual machine,
 * plus cold caches afterwards). Other I/O and timers keep running between the ticks.
 *
 * On a saturated machine (1-minute load average above the CPU count) a busy-wait only takes CPU
 * from runnable processes, the worker included, so it is skipped there.
 */
import { availableParallelism, loadavg } from 'node:os';

const LOAD_CHECK_MS = 1000;
let checkedAt = -Infinity;
let saturated = false;

function machineSaturated(now: number): boolean {
  if (now - checkedAt >= LOAD_CHECK_MS) {
    checkedAt = now;
    saturated = loadavg()[0]! > availableParallelism();
  }
  return saturated;
}

/** Keep the event loop polling while `waiting()` holds, for at most `maxMicros` µs. */
export function pollWhile(waiting: () => boolean, maxMicros: number): void {
  if (maxMicros <= 0) return;
  const start = performance.now();
  if (machineSaturated(start)) return;
  const until = start + maxMicros / 1000;
  const tick = (): void => {
    if (waiting() && performance.now() < until) setImmediate(tick);
  };
  setImmediate(tick);
}
