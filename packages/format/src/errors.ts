/**
 * Typed errors. Each carries an MLflow error code (so servers can map it to MLflow's HTTP status)
 * and a message a user can act on. `userError` is true when the cause is the user's input or
 * files rather than a bug: CLIs print only the message for those, never a stack trace.
 */
export type MlflowErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'INTERNAL_ERROR'
  | 'NOT_IMPLEMENTED'
  | 'DEADLINE_EXCEEDED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'CANCELLED'
  | 'UNAUTHENTICATED';

export class MlmodelError extends Error {
  readonly errorCode: MlflowErrorCode;
  readonly userError: boolean;

  constructor(message: string, errorCode: MlflowErrorCode = 'INVALID_PARAMETER_VALUE', options?: { cause?: unknown; userError?: boolean }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.errorCode = errorCode;
    this.userError = options?.userError ?? true;
  }
}

/** A model directory or one of its files is missing, unreadable or malformed. */
export class ModelFormatError extends MlmodelError {
  /** The file at fault, when known. */
  readonly file: string | undefined;
  /** Dotted key path inside that file, e.g. `flavors.onnx.data`, when known. */
  readonly keyPath: string | undefined;

  constructor(message: string, opts: { file?: string; keyPath?: string; cause?: unknown; errorCode?: MlflowErrorCode } = {}) {
    const where = [opts.file, opts.keyPath ? `at ${opts.keyPath}` : undefined].filter(Boolean).join(' ');
    super(where ? `${where}: ${message}` : message, opts.errorCode ?? 'INVALID_PARAMETER_VALUE', { cause: opts.cause });
    this.file = opts.file;
    this.keyPath = opts.keyPath;
  }
}

/** YAML that is not acceptable: syntax errors, duplicate keys, aliases, non-mapping documents. */
export class YamlError extends ModelFormatError {}

/** A signature JSON string that is not a valid MLflow signature. */
export class SignatureError extends MlmodelError {}

/** Input data or params that do not satisfy the model signature (MLflow's INVALID_PARAMETER_VALUE / 400). */
export class SchemaEnforcementError extends MlmodelError {
  constructor(message: string) {
    super(message, 'INVALID_PARAMETER_VALUE');
  }
}

/** A model URI that cannot be parsed. */
export class ModelUriError extends MlmodelError {}

/** What kind of problem stopped a table read: callers such as the scoring-request parsers map it to their own statuses. */
export type TableProblem =
  /** The bytes are not valid data of the format (corrupt, truncated, a value that does not fit its column's type). */
  | 'invalid'
  /** A limit was exceeded (rows, decoded bytes); `limit` holds it. */
  | 'too-large'
  /** The data does not fit the model schema given to the reader (e.g. timezone-aware datetimes). */
  | 'schema'
  /** The isolated Parquet decoder died (corrupt pages, data expanding beyond its 4 GiB memory) or took too long. */
  | 'decoder'
  /** The file cannot be opened or read. */
  | 'io'
  /** The read was cancelled through its AbortSignal. */
  | 'aborted';

/**
 * A table file or buffer (Parquet, Arrow IPC, CSV) that cannot be read. The message starts with
 * the source (the file path, or e.g. `Parquet data` for bytes) and says what to fix; `detail` is
 * the same text without the source, for callers that word their own messages.
 */
export class TableReadError extends MlmodelError {
  readonly problem: TableProblem;
  /** The file path, or a description of an in-memory source. */
  readonly source: string;
  /** The table format being read, when known. */
  readonly format: string | undefined;
  /** The message without the source prefix. */
  readonly detail: string;
  /** For `too-large`: the limit that was exceeded, and what exceeded it (e.g. `the decoded data`). */
  readonly limit: number | undefined;
  readonly what: string | undefined;
  /** For a row-count limit: the rows the file declares. */
  readonly numRows: number | undefined;

  constructor(
    source: string,
    detail: string,
    opts: { problem?: TableProblem; format?: string; limit?: number; what?: string; numRows?: number; cause?: unknown; errorCode?: MlflowErrorCode } = {},
  ) {
    const problem = opts.problem ?? 'invalid';
    const code: MlflowErrorCode =
      opts.errorCode ?? (problem === 'io' ? 'RESOURCE_DOES_NOT_EXIST' : problem === 'aborted' ? 'CANCELLED' : 'INVALID_PARAMETER_VALUE');
    super(`${source}: ${detail}`, code, { cause: opts.cause });
    this.problem = problem;
    this.source = source;
    this.format = opts.format;
    this.detail = detail;
    this.limit = opts.limit;
    this.what = opts.what;
    this.numRows = opts.numRows;
  }
}

/** A table that cannot be written: batches that do not match the first one's columns, an unsupported option, a failed write. */
export class TableWriteError extends MlmodelError {
  /** The destination path. */
  readonly path: string;

  constructor(path: string, detail: string, opts: { cause?: unknown; userError?: boolean } = {}) {
    super(`${path}: ${detail}`, 'INVALID_PARAMETER_VALUE', { cause: opts.cause, userError: opts.userError ?? true });
    this.path = path;
  }
}

/**
 * A message that may span lines (a daemon's, a cloud service's, a subprocess's) as one line for a
 * user error: each line trimmed, blank lines dropped, the rest joined by ` | `.
 */
export function oneLine(message: string): string {
  return message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' | ');
}
