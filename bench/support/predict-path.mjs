/**
 * The runner's prepare → predict steps (signature enforcement, params, the model call) on a model
 * loaded by the bench itself: what every front end runs after decoding a request.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { prepareInput } = await import(join(ROOT, 'packages/flavors/dist/runner/index.js'));

/** Prepare `input` and `params` for `model` as the runner does, then predict. */
export function predictPrepared(model, input, params) {
  const prepared = prepareInput({ flavor: model.flavor, signature: model.signature, acceptsJson: model.capabilities?.acceptsJson ?? false }, input, params);
  return model.predict(prepared.input, prepared.params);
}
