/**
 * Optional per-request timestamps for profiling the bridge. Off unless `MLMODEL_BRIDGE_TRACE` names
 * a file: then Node and every worker it starts append lines `<side> <worker pid> <request id>
 * <phase> <CLOCK_MONOTONIC ns>` to it when they exit (Node's `process.hrtime` and Python's
 * `time.monotonic_ns` read the same clock, so the two sides' marks compare directly).
 * `bench/python-bridge/trace.mjs` turns the file into a table of phase-to-phase medians.
 */
import { appendFileSync } from 'node:fs';

export const TRACE_ENV = 'MLMODEL_BRIDGE_TRACE';

export class BridgeTrace {
  readonly file: string;
  readonly #lines: string[] = [];

  constructor(file: string) {
    this.file = file;
    process.once('exit', () => this.flush());
  }

  mark(pid: number | undefined, id: number, phase: string): void {
    this.#lines.push(`node ${pid ?? 0} ${id} ${phase} ${process.hrtime.bigint()}\n`);
  }

  flush(): void {
    if (this.#lines.length === 0) return;
    appendFileSync(this.file, this.#lines.join(''));
    this.#lines.length = 0;
  }
}

const file = process.env[TRACE_ENV];

/** The process-wide trace, or null (the default): callers guard each mark with `bridgeTrace?.`. */
export const bridgeTrace: BridgeTrace | null = file ? new BridgeTrace(file) : null;
