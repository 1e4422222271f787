/** What the OpenAPI document says about each loaded model, read from the model repository. */
import type { ModelSlot } from '../models/model-repository.js';
import type { ModelDescription } from './document.js';
import { loadSavedExample, synthesizeExample } from './examples.js';

/** Describe a loaded model: its signature, and its saved input example or a synthesized one. */
export async function describeModel(slot: ModelSlot): Promise<ModelDescription> {
  if (slot.state !== 'ready') throw new Error(`model '${slot.config.name}' is not loaded`);
  const { runner } = slot.model;
  const signature = runner.signature;
  const saved = await loadSavedExample(runner.dir, signature);
  return {
    name: slot.config.name,
    version: slot.config.version ?? null,
    flavor: runner.flavor,
    signature,
    fromTypeHint: runner.capabilities.signatureFromTypeHint,
    example: saved ?? synthesizeExample(signature),
    exampleSaved: saved !== null,
  };
}
