import {
  MlmodelError,
  checkModelFiles,
  enforceSchema,
  inputExampleToBatch,
  openModelDir,
  readInputExample,
  readModelEnvironment,
  type ModelDir,
  type ModelUriResolver,
} from '@mlmodel/format';
import { modelResolver } from '../args.js';
import { toJson, type Io } from '../output.js';

export interface ValidationResult {
  path: string;
  valid: boolean;
  flavors: string[];
  problems: string[];
}

/** Run a check, turning our typed errors into problem lines (other errors are bugs and propagate). */
async function collect(problems: string[], check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (e) {
    if (e instanceof MlmodelError) problems.push(e.message);
    else throw e;
  }
}

async function checkInputExample(model: ModelDir): Promise<void> {
  const info = model.mlmodel.saved_input_example_info;
  if (!info) return;
  const example = await readInputExample(model.dir, info);
  const schema = model.mlmodel.signature?.inputs;
  if (!schema || (info.type !== 'dataframe' && info.type !== 'ndarray')) return;
  try {
    enforceSchema(inputExampleToBatch(example, schema), schema);
  } catch (e) {
    if (e instanceof MlmodelError) throw new MlmodelError(`${info.artifact_path}: the input example does not match the signature: ${e.message}`);
    throw e;
  }
}

/** Every problem found in a model directory (an empty list means it is valid). `resolver` turns runs:/ and models:/ URIs into local directories. */
export async function validateModel(path: string, resolver?: ModelUriResolver): Promise<ValidationResult> {
  const problems: string[] = [];
  let model: ModelDir | undefined;
  await collect(problems, async () => {
    model = await openModelDir(path, { resolver });
  });
  if (!model) return { path, valid: false, flavors: [], problems };
  const m = model;
  problems.push(...(await checkModelFiles(m)));
  await collect(problems, async () => {
    await readModelEnvironment(m.dir);
  });
  await collect(problems, () => checkInputExample(m));
  return { path: m.dir, valid: problems.length === 0, flavors: Object.keys(m.mlmodel.flavors), problems };
}

export async function validateCommand(path: string, opts: { json?: boolean }, io: Io): Promise<number> {
  const r = await validateModel(path, modelResolver({ log: io.err }));
  if (opts.json) io.out(toJson(r));
  else if (r.valid) io.out(`OK: ${r.path} is a valid MLflow model (flavors: ${r.flavors.join(', ')})`);
  else for (const p of r.problems) io.err(`error: ${p}`);
  return r.valid ? 0 : 1;
}
