import { readFile, realpath } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { MlmodelError, ScoringRequestError, SERVING_INPUT_EXAMPLE_FILE, servingRequestFromExampleFile, writeFileAtomic, type ModelDir } from '@mlmodel/format';
import { ModelRunner, createRegistry } from '@mlmodel/flavors';
import { contentTypeFor, loadOptions, modelResolver, pluginSpecifiers, type ModelLoadingCliOptions } from '../args.js';
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

async function samePath(a: string, b: string): Promise<boolean> {
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
}

/**
 * Whether `input` is the model's own saved input example (`input_example.json`, what `mlmodel
 * info` shows). That file holds the example's data, not a scoring request: MLflow's serving form
 * of it is `serving_input_example.json`.
 */
async function isModelsInputExample(model: ModelDir, input: string): Promise<boolean> {
  const info = model.mlmodel.saved_input_example_info;
  if (!info || input === '-') return false;
  let example: string;
  try {
    example = model.resolve(info.artifact_path);
  } catch {
    return false;
  }
  return samePath(resolve(input), example);
}

/** A request that is not one of MLflow's JSON forms: say which files of the model are requests. */
function withExampleHint(e: unknown, model: ModelDir): unknown {
  if (!(e instanceof ScoringRequestError) || !e.message.includes('exactly one of the input fields')) return e;
  const info = model.mlmodel.saved_input_example_info;
  if (!info) return e;
  const example = resolve(model.dir, info.artifact_path);
  const serving = resolve(model.dir, info.serving_input_path ?? SERVING_INPUT_EXAMPLE_FILE);
  const hint = ` (an input example file such as ${example} holds example data, not a request: send ${serving}, or that ${basename(example)} itself, which mlmodel predict converts)`;
  return new ScoringRequestError(`${e.message}${hint}`, { httpStatus: e.httpStatus, errorCode: e.errorCode, cause: e });
}

/** Score one input file with a model, through the same parse → enforce → predict → encode path as the server. */
export async function predictCommand(o: PredictCliOptions, io: Io): Promise<number> {
  const registry = createRegistry();
  for (const p of pluginSpecifiers(o)) await registry.loadPlugin(p);
  const options = loadOptions(o);
  let body = await readInput(o.input);
  const runner = await ModelRunner.open(o.model, { registry, options, flavor: o.flavor, resolver: modelResolver({ log: io.err }) });
  try {
    let contentType = contentTypeFor(o.input, o.contentType);
    const info = runner.dir.mlmodel.saved_input_example_info;
    if (info && (await isModelsInputExample(runner.dir, o.input))) {
      // the model's input_example.json: score the request MLflow makes of it (what it saves as serving_input_example.json)
      body = await servingRequestFromExampleFile(runner.dir.dir, info);
      contentType = 'application/json';
    }
    let scored;
    try {
      // no body limit: the user chose the file (the server keeps its limit)
      scored = await runner.score(body, contentType, { limits: { maxBytes: Number.MAX_SAFE_INTEGER } });
    } catch (e) {
      throw withExampleHint(e, runner.dir);
    }
    const text = typeof scored.body === 'string' ? scored.body : Buffer.from(scored.body).toString('utf8');
    if (o.output) await writeFileAtomic(o.output, `${text}\n`);
    else io.out(text);
  } finally {
    await runner.close();
  }
  return 0;
}
