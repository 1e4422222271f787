/** Options of one HTTP server process, with their defaults. */
export interface ServerOptions {
  /** Longest a request may take, in ms, before a 504 (MLflow: MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT, 60 s). */
  readonly requestTimeoutMs?: number;
  /** Largest request body in bytes (default 100 MiB, MLflow's nginx limit); more is a 413. */
  readonly bodyLimitBytes?: number;
  /** When set, every route except health checks needs `Authorization: Bearer <token>`. */
  readonly authToken?: string | null;
  /** Origins allowed by CORS (`*` for any); empty or absent: no CORS headers. */
  readonly corsOrigins?: readonly string[];
  /** pino log level (`info` logs one line per request; `silent` logs nothing). */
  readonly logLevel?: string;
  /** Where logs go (default stdout). */
  readonly logStream?: NodeJS.WritableStream;
  /** Add a `stack_trace` to unexpected-error bodies, as MLflow does (default off). */
  readonly includeStackTrace?: boolean;
  /** The version `/version` reports. */
  readonly version?: string;
  /** Collect process metrics (CPU, memory, event loop) in /metrics (default on). */
  readonly processMetrics?: boolean;
}

export type ResolvedServerOptions = Required<Omit<ServerOptions, 'logStream' | 'authToken'>> & Pick<ServerOptions, 'logStream' | 'authToken'>;

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_BODY_LIMIT_BYTES = 100 * 1024 * 1024;

export function resolveServerOptions(o: ServerOptions): ResolvedServerOptions {
  return {
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    bodyLimitBytes: o.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    authToken: o.authToken ?? null,
    corsOrigins: o.corsOrigins ?? [],
    logLevel: o.logLevel ?? 'info',
    logStream: o.logStream,
    includeStackTrace: o.includeStackTrace ?? false,
    version: o.version ?? '0.0.0',
    processMetrics: o.processMetrics ?? true,
  };
}
