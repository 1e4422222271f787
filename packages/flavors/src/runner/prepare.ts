/**
 * The checks every front end runs before a model sees data: JSON input only for models that take
 * it, the signature enforced (MLflow's rules), param defaults applied.
 */
import { MlmodelError, enforceParams, enforceSchema, type ModelInput, type ModelSignature } from '@mlmodel/format';

/** A model input that passed the model's checks, with params completed from their defaults. */
export interface PreparedInput {
  readonly input: ModelInput;
  readonly params: Record<string, unknown>;
}

/** What preparing needs to know of a model. */
export interface PrepareTarget {
  readonly flavor: string;
  readonly signature: ModelSignature | null;
  readonly acceptsJson: boolean;
}

/** Enforce `target`'s signature on an input and complete its params. Throws the user's error. */
export function prepareInput(target: PrepareTarget, input: ModelInput, params: Readonly<Record<string, unknown>> | null | undefined): PreparedInput {
  const sig = target.signature;
  if (input.kind === 'json' && !target.acceptsJson) {
    throw new MlmodelError(
      `this ${target.flavor} model takes tabular or tensor input; send dataframe_split, dataframe_records, instances or inputs`,
      'BAD_REQUEST',
    );
  }
  const data = input.kind !== 'json' && sig?.inputs ? enforceSchema(input, sig.inputs) : input;
  return { input: data, params: enforceParams(params ?? {}, sig?.params ?? null) };
}
