import type { ModelInput } from '../batch/types.js';

/** Which request form a body used. `llm` requests are answered without the `predictions` wrapper. */
export type ScoringFormat = 'dataframe_split' | 'dataframe_records' | 'instances' | 'inputs' | 'csv' | 'parquet' | 'arrow' | 'llm';

/** A parsed scoring request: the model input (before schema enforcement) and the request params. */
export interface ScoringRequest {
  /** A batch for the traditional forms; `{kind: 'json'}` for unified-LLM requests and type-hint signatures. */
  readonly batch: ModelInput;
  /** The request's `params` (null when absent; always null for CSV, Parquet and Arrow, like MLflow). */
  readonly params: Record<string, unknown> | null;
  readonly format: ScoringFormat;
}
