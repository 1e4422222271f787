/**
 * Errors of the scoring-protocol codec, and the fixed texts of MLflow's scoring server
 * (`mlflow/pyfunc/scoring_server/__init__.py`) that appear in them.
 */
import { MlmodelError, type MlflowErrorCode } from '../errors.js';

/** HTTP statuses a request can be refused with before the model runs. */
export type ScoringHttpStatus = 400 | 413 | 415;

/**
 * A scoring request that cannot be parsed: a bad or unsupported content type (415), a body over
 * the size limit (413), or a body that is not valid for its content type (400). `errorCode` is
 * MLflow's (`BAD_REQUEST` for malformed input, `INVALID_PARAMETER_VALUE` where MLflow uses it).
 * MLflow answers 415 with a `text/plain` body holding just the message; `encodeError` does too.
 */
export class ScoringRequestError extends MlmodelError {
  readonly httpStatus: ScoringHttpStatus;

  constructor(message: string, opts: { httpStatus?: ScoringHttpStatus; errorCode?: MlflowErrorCode; cause?: unknown } = {}) {
    super(message, opts.errorCode ?? 'BAD_REQUEST', opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.httpStatus = opts.httpStatus ?? 400;
  }
}

/** The four traditional JSON input fields, in the order MLflow's messages list them here. */
export const JSON_FORMAT_KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
export type JsonFormatKey = (typeof JSON_FORMAT_KEYS)[number];

/** Top-level keys that switch a JSON request to MLflow's unified LLM mode (note `input`, not `inputs`). */
export const LLM_KEYS = ['messages', 'prompt', 'input'] as const;

/** MLflow prints `SUPPORTED_FORMATS` as a Python set; its order depends on the hash seed, this is one of them. */
export const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields {${JSON_FORMAT_KEYS.map((k) => `'${k}'`).join(', ')}}`;

export const SCORING_PROTOCOL_CHANGE_INFO =
  'IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are' +
  ' seeing this error, you are likely using an outdated scoring request format. To resolve the' +
  " error, either update your request format or adjust your MLflow Model's requirements file to" +
  " specify an older version of MLflow (for example, change the 'mlflow' requirement specifier" +
  " to 'mlflow==1.30.0'). If you are making a request using the MLflow client" +
  ' (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in' +
  ' order to use the new request format. For more information about the updated MLflow' +
  ' Model scoring protocol in MLflow 2.0, see' +
  ' https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.';

/** MLflow's `MlflowInvalidInputException`: BAD_REQUEST, message prefixed with `Invalid input. `. */
export function invalidInput(message: string, cause?: unknown): ScoringRequestError {
  return new ScoringRequestError(`Invalid input. ${message}`, { cause });
}

/** `Failed to convert column X to type 'T'` (MLflow's `MlflowFailedTypeConversion`, dataframe formats). */
export function failedTypeConversion(column: string, pandasType: string, detail: string): ScoringRequestError {
  return invalidInput(`Data is not compatible with model signature. Failed to convert column ${column} to type '${pandasType}'. Error: '${detail}'`);
}

const TABULAR_HINTS = {
  csv: 'a valid CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method',
  parquet: 'a valid Parquet file, e.g. one produced using the `pandas.DataFrame.to_parquet()` method',
  arrow: 'valid Arrow IPC data (the stream or file format), e.g. one produced using `pyarrow.ipc` or apache-arrow',
} as const;

/** A CSV, Parquet or Arrow body that cannot be read (MLflow's `parse_csv_input` message shape). */
export function tabularParseError(kind: keyof typeof TABULAR_HINTS, detail: string, cause?: unknown): ScoringRequestError {
  return new ScoringRequestError(`Failed to parse input as a Pandas DataFrame. Ensure that the input is ${TABULAR_HINTS[kind]}. Error: '${detail}'`, { cause });
}

/** Internal: a value that does not convert to the requested type; callers add where it happened. */
export class CastFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CastFailure';
  }
}
