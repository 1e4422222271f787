import {
  MlmodelError,
  enforceParams,
  enforceSchema,
  parseScoringRequest,
  type ModelInput,
  type Prediction,
} from '@mlmodel/format';
import type { LoadedModel } from './flavor.js';

/** A model input that passed the model's checks, with params completed from their defaults. */
export interface PreparedInput {
  readonly input: ModelInput;
  readonly params: Record<string, unknown>;
}

/**
 * The checks every front end runs before a model sees data: JSON input only for models that take
 * it, the signature enforced (MLflow's rules), param defaults applied. Throws the user's error.
 */
export function prepareInput(
  model: LoadedModel,
  input: ModelInput,
  params: Readonly<Record<string, unknown>> | null | undefined,
): PreparedInput {
  const sig = model.signature;
  if (input.kind === 'json' && !model.acceptsJson) {
    throw new MlmodelError(
      `this ${model.flavor} model takes tabular or tensor input; send dataframe_split, dataframe_records, instances or inputs`,
      'BAD_REQUEST',
    );
  }
  const data = input.kind !== 'json' && sig?.inputs ? enforceSchema(input, sig.inputs) : input;
  return { input: data, params: enforceParams(params ?? {}, sig?.params ?? null) };
}

/**
 * The one predict path shared by every front end: `prepareInput`, then the model. `input` comes
 * from `parseScoringRequest`.
 */
export async function predictParsed(
  model: LoadedModel,
  input: ModelInput,
  params: Readonly<Record<string, unknown>> | null | undefined,
): Promise<Prediction> {
  const prepared = prepareInput(model, input, params);
  return model.predict(prepared.input, prepared.params);
}

/** Parse a request body of any supported content type and predict it. */
export async function predictRequest(
  model: LoadedModel,
  body: Uint8Array,
  contentType: string | undefined,
  opts: { signatureFromTypeHint?: boolean } = {},
): Promise<{ prediction: Prediction; unwrapped: boolean }> {
  const req = await parseScoringRequest(body, contentType, model.signature?.inputs ?? null, {
    paramSpecs: model.signature?.params ?? null,
    signatureFromTypeHint: opts.signatureFromTypeHint ?? false,
  });
  return { prediction: await predictParsed(model, req.batch, req.params), unwrapped: req.format === 'llm' };
}
