import { readFile } from 'node:fs/promises';
import { MlmodelError, encodePredictions, openModelDir, writeFileAtomic } from '@mlmodel/format';
import { createRegistry, predictRequest } from '@mlmodel/flavors';
import { contentTypeFor, loadOptions, pluginSpecifiers, type ModelLoadingCliOptions } from '../args.js';
import type { Io } from '../output.js';

export interface PredictCliOptions extends ModelLoadingCliOptions {
  model: string;
  input: string;
  contentType?: string;
  output?: string;
  flavor?: string;
  plugin?: string[];
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    }
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new MlmodelError(`cannot read input ${path}: ${(e as Error).message}`);
  }
}

/** Score one input file with a model, through the same parse → enforce → predict → encode path as the server. */
export async function predictCommand(o: PredictCliOptions, io: Io): Promise<number> {
  const registry = createRegistry();
  for (const p of pluginSpecifiers(o)) await registry.loadPlugin(p);
  const body = await readInput(o.input);
  const dir = await openModelDir(o.model);
  const model = await registry.load(dir, { options: loadOptions(o), ...(o.flavor ? { flavor: o.flavor } : {}) });
  try {
    const { prediction, unwrapped } = await predictRequest(model, body, contentTypeFor(o.input, o.contentType), {
      signatureFromTypeHint: dir.mlmodel.is_signature_from_type_hint ?? false,
    });
    const text = encodePredictions(prediction, { unwrapped });
    if (o.output) await writeFileAtomic(o.output, `${text}\n`);
    else io.out(text);
  } finally {
    await model.close();
  }
  return 0;
}
