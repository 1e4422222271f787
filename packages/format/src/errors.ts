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
