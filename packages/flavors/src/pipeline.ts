import {
  MlmodelError,
  enforceParams,
  enforceSchema,
  parseScoringRequest,
  type ModelInput,
  type Prediction,
} from '@mlmodel/format';
import type { LoadedModel } from './flavor.js';

/**
 * The one predict path shared by every front end: enforce the signature (MLflow's rules), apply
 * param defaults, run the model. `input` comes from `parseScoringRequest`.
 */
export async function predictParsed(
  model: LoadedModel,
  input: ModelInput,
  params: Readonly<Record<string, unknown>> | null | undefined,
): Promise<Prediction> {
  const sig = model.signature;
  if (input.kind === 'json' && !model.acceptsJson) {
    throw new MlmodelError(
      `this ${model.flavor} model takes tabular or tensor input; send dataframe_split, dataframe_records, instances or inputs`,
      'BAD_REQUEST',
    );
  }
  const data = input.kind !== 'json' && sig?.inputs ? enforceSchema(input, sig.inputs) : input;
  const p = enforceParams(params ?? {}, sig?.params ?? null);
  return model.predict(data, p);
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
