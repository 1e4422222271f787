import { checkedAuthToken } from './http/auth.js';
import type { BufferedLines } from './logging/buffered-lines.js';
import { defaultMemoryBudgetBytes } from './memory-budget.js';

/** Options of one HTTP server process, with their defaults. */
export interface ServerOptions {
  /** Longest a request may take, in ms, before a 504 (MLflow: MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT, 60 s). */
  readonly requestTimeoutMs?: number;
  /** Largest request body in bytes (default 100 MiB, MLflow's nginx limit); more is a 413. */
  readonly bodyLimitBytes?: number;
  /** When set, every route except health checks needs `Authorization: Bearer <token>` (trimmed; empty or only whitespace is refused). */
  readonly authToken?: string | null;
  /** Origins allowed by CORS (`*` for any); empty or absent: no CORS headers. */
  readonly corsOrigins?: readonly string[];
  /** pino log level (`info` logs one line per request; `silent` logs nothing). */
  readonly logLevel?: string;
  /** Where logs go (default stdout, in batched writes: logging/buffered-lines.ts). */
  readonly logStream?: NodeJS.WritableStream | BufferedLines;
  /** Add a `stack_trace` to unexpected-error bodies, as MLflow does (default off). */
  readonly includeStackTrace?: boolean;
  /** The version `/version` reports. */
  readonly version?: string;
  /** Collect process metrics (CPU, memory, event loop) in /metrics (default on). */
  readonly processMetrics?: boolean;
  /**
   * Memory large requests may reserve at once in this process, in bytes (default: a quarter of the
   * memory, at most 2 GiB); a request of at least 1 MiB reserves 8× its body and waits for no one:
   * when it does not fit, it gets 503 with Retry-After.
   */
  readonly memoryBudgetBytes?: number;
  /** Worker threads that decode large bodies and run large model calls (default: the cores beyond the first, 1–4). */
  readonly workerThreads?: number;
}

export type ResolvedServerOptions = Required<Omit<ServerOptions, 'logStream' | 'authToken' | 'workerThreads'>> &
  Pick<ServerOptions, 'logStream' | 'authToken' | 'workerThreads'>;

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_BODY_LIMIT_BYTES = 100 * 1024 * 1024;

export function resolveServerOptions(o: ServerOptions): ResolvedServerOptions {
  return {
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    bodyLimitBytes: o.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    authToken: checkedAuthToken(o.authToken),
    corsOrigins: o.corsOrigins ?? [],
    logLevel: o.logLevel ?? 'info',
    logStream: o.logStream,
    includeStackTrace: o.includeStackTrace ?? false,
    version: o.version ?? '0.0.0',
    processMetrics: o.processMetrics ?? true,
    memoryBudgetBytes: o.memoryBudgetBytes ?? defaultMemoryBudgetBytes(),
    workerThreads: o.workerThreads,
  };
}
