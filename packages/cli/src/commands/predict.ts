import { readFile } from 'node:fs/promises';
import { MlmodelError, writeFileAtomic } from '@mlmodel/format';
import { ModelRunner, createRegistry } from '@mlmodel/flavors';
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
  const options = loadOptions(o);
  const body = await readInput(o.input);
  const runner = await ModelRunner.open(o.model, { registry, options, flavor: o.flavor });
  try {
    // no body limit: the user chose the file (the server keeps its limit)
    const scored = await runner.score(body, contentTypeFor(o.input, o.contentType), { limits: { maxBytes: Number.MAX_SAFE_INTEGER } });
    const text = typeof scored.body === 'string' ? scored.body : Buffer.from(scored.body).toString('utf8');
    if (o.output) await writeFileAtomic(o.output, `${text}\n`);
    else io.out(text);
  } finally {
    await runner.close();
  }
  return 0;
}
