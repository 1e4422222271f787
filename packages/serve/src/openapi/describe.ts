/** What the OpenAPI document says about each loaded model, read from the model repository. */
import type { ModelEntry } from '../models/model-repository.js';
import type { ModelDescription } from './document.js';
import { loadSavedExample, synthesizeExample } from './examples.js';

/** Describe a loaded model: its signature, and its saved input example or a synthesized one. */
export async function describeEntry(entry: ModelEntry): Promise<ModelDescription> {
  const served = entry.model;
  if (!served) throw new Error(`model '${entry.spec.name}' is not loaded`);
  const signature = served.model.signature;
  const saved = await loadSavedExample(served.dir, signature);
  return {
    name: entry.spec.name,
    version: entry.spec.version ?? null,
    flavor: served.model.flavor,
    signature,
    fromTypeHint: served.signatureFromTypeHint,
    example: saved ?? synthesizeExample(signature),
    exampleSaved: saved !== null,
  };
}
