import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { MlmodelError, encodePredictions, parseParamArg, parseSignature, type ModelSignature } from '@mlmodel/format';
import { buildModel, createRegistry } from '@mlmodel/flavors';
import { logModel, openTrackingClient, type LogModelResult } from '@mlmodel/tracking-client';
import { contentTypeFor, keyValues } from '../args.js';
import { truncate, type Io } from '../output.js';

export interface BuildCliOptions {
  onnx?: string;
  tfjs?: string;
  js?: string;
  artifact?: string[];
  code?: string[];
  config?: string[];
  inputExample?: string;
  signature?: string;
  param?: string[];
  metadata?: string[];
  runId?: string;
  experiment?: string;
  runName?: string;
  modelName?: string;
  registeredModelName?: string;
  trackingUri?: string;
  output: string;
  json?: boolean;
}

/**
 * Whether the build is logged to a run: always with --experiment; with --run-id when there is a
 * tracking store to find the run in (--tracking-uri, $MLFLOW_TRACKING_URI, or an existing
 * ./mlruns). Otherwise --run-id only records the run that produced the model in MLmodel.
 */
export function logsToTracking(o: BuildCliOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): boolean {
  if (o.experiment) return true;
  if (!o.runId) return false;
  return Boolean(o.trackingUri || env.MLFLOW_TRACKING_URI || existsSync(resolve(cwd, 'mlruns')));
}

/** MLflow param keys allow alphanumerics, `_ - . / :` and spaces; anything else becomes `_`. */
function paramKey(k: string): string {
  return k.replace(/[^\w.\- :/]/g, '_').slice(0, 250);
}

/** The build's parameters, logged to the run (and copied to the logged model). */
export function buildParams(o: BuildCliOptions, flavor: string): Record<string, string> {
  const p: Record<string, string> = { flavor, source: o.onnx ?? o.tfjs ?? o.js ?? '', signature: o.signature ?? 'infer' };
  if (o.inputExample) p.input_example = o.inputExample;
  for (const [k, v] of Object.entries(keyValues(o.artifact, '--artifact'))) p[paramKey(`artifact.${k}`)] = v;
  for (const c of o.code ?? []) p[paramKey(`code.${Object.keys(p).filter((k) => k.startsWith('code.')).length}`)] = c;
  for (const [k, v] of Object.entries(keyValues(o.config, '--config'))) p[paramKey(`config.${k}`)] = v;
  for (const spec of o.param ?? []) {
    const at = spec.indexOf('=');
    p[paramKey(`param.${at > 0 ? spec.slice(0, at) : spec}`)] = at > 0 ? spec.slice(at + 1) : '';
  }
  for (const [k, v] of Object.entries(keyValues(o.metadata, '--metadata'))) p[paramKey(`metadata.${k}`)] = v;
  // MLflow's param value limit
  for (const k of Object.keys(p)) if (p[k]!.length > 6000) p[k] = `${p[k]!.slice(0, 5999)}…`;
  return p;
}

/** Read a signature file: `{inputs, outputs, params}`, each an MLflow JSON string, a list, or null. */
async function readSignatureFile(path: string): Promise<ModelSignature> {
  let d: unknown;
  try {
    d = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new MlmodelError(`cannot read signature file ${path}: ${(e as Error).message}`);
  }
  if (typeof d !== 'object' || d === null || Array.isArray(d))
    throw new MlmodelError(`${path}: a signature file holds {"inputs": ..., "outputs": ..., "params": ...}`);
  const asText = (v: unknown): unknown => (Array.isArray(v) ? JSON.stringify(v) : v);
  const o = d as Record<string, unknown>;
  try {
    return parseSignature({ inputs: asText(o.inputs) ?? null, outputs: asText(o.outputs) ?? null, params: asText(o.params) ?? null }, path);
  } catch (e) {
    throw new MlmodelError((e as Error).message);
  }
}

function flavorInput(o: BuildCliOptions): { flavor: string; input: unknown } {
  const given = [o.onnx && 'onnx', o.tfjs && 'tfjs', o.js && 'js'].filter(Boolean);
  if (given.length !== 1) throw new InvalidArgumentError('give exactly one of --onnx FILE, --tfjs DIR or --js MODULE');
  if (o.onnx) return { flavor: 'onnx', input: { onnxPath: o.onnx } };
  if (o.tfjs) return { flavor: 'tfjs', input: o.tfjs.endsWith('.json') ? { modelJson: o.tfjs } : { dir: o.tfjs } };
  const config = Object.fromEntries(Object.entries(keyValues(o.config, '--config')).map(([k, v]) => [k, parseJsonish(v)]));
  return {
    flavor: 'js_function',
    input: {
      modulePath: o.js,
      codePaths: o.code ?? [],
      artifacts: keyValues(o.artifact, '--artifact'),
      config: Object.keys(config).length ? config : undefined,
    },
  };
}

function parseJsonish(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export async function buildCommand(o: BuildCliOptions, io: Io): Promise<number> {
  const { flavor, input } = flavorInput(o);
  if ((o.artifact?.length || o.code?.length || o.config?.length) && flavor !== 'js_function') {
    throw new InvalidArgumentError('--artifact, --code and --config go with --js');
  }
  if (o.experiment && o.runId) throw new InvalidArgumentError('give --experiment (a new run) or --run-id (an existing run), not both');
  if ((o.runName || o.modelName || o.registeredModelName) && !o.experiment && !o.runId) {
    throw new InvalidArgumentError('--run-name, --model-name and --registered-model-name go with --experiment or --run-id');
  }
  if (o.runName && o.runId) throw new InvalidArgumentError('--run-name names a new run: it goes with --experiment');
  let params;
  try {
    params = (o.param ?? []).map(parseParamArg);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  const signature = o.signature && o.signature !== 'infer' ? await readSignatureFile(o.signature) : 'infer';
  const inputExample = o.inputExample
    ? {
        body: new Uint8Array(await readFile(o.inputExample).catch((e: Error) => Promise.reject(new MlmodelError(`cannot read input example: ${e.message}`)))),
        contentType: contentTypeFor(o.inputExample),
      }
    : undefined;
  const metadata = Object.fromEntries(Object.entries(keyValues(o.metadata, '--metadata')).map(([k, v]) => [k, parseJsonish(v)]));
  const tracking = logsToTracking(o)
    ? openTrackingClient({ ...(o.trackingUri ? { trackingUri: o.trackingUri } : {}), sourceName: 'mlmodel build' })
    : undefined;
  let result: Awaited<ReturnType<typeof buildModel>>;
  let logged: LogModelResult | undefined;
  try {
    // the destination is checked (and an experiment created, as MLflow's set_experiment does) before the possibly long build
    if (tracking && o.runId) await tracking.store.getRun(o.runId);
    if (tracking && o.experiment) await tracking.getOrCreateExperiment(o.experiment);
    result = await buildModel({
      flavor,
      input,
      outDir: o.output,
      registry: createRegistry(),
      signature,
      params,
      metadata,
      ...(inputExample ? { inputExample } : {}),
      ...(o.runId ? { runId: o.runId } : {}),
    });
    if (tracking) {
      logged = await logModel(tracking, {
        modelDir: result.dir,
        experimentName: o.experiment,
        runId: o.runId,
        runName: o.runName,
        modelName: o.modelName,
        registeredModelName: o.registeredModelName,
        params: buildParams(o, flavor),
        log: (m) => io.err(`mlmodel: ${m}`),
      });
    }
  } finally {
    tracking?.close();
  }
  if (o.json) {
    io.out(
      JSON.stringify(
        {
          dir: result.dir,
          flavors: Object.keys(result.mlmodel.flavors),
          model_uuid: logged ? logged.modelId : result.mlmodel.model_uuid,
          ...(logged
            ? {
                run_id: logged.runId,
                experiment_id: logged.experimentId,
                model_id: logged.modelId,
                model_uri: logged.modelUri,
                run_model_uri: logged.runModelUri,
                artifact_uri: logged.artifactUri,
                ...(logged.registeredVersion ? { registered_model: { name: logged.registeredVersion.name, version: logged.registeredVersion.version } } : {}),
              }
            : {}),
        },
        null,
        2,
      ),
    );
  } else {
    io.out(`built ${result.dir} (flavors: ${Object.keys(result.mlmodel.flavors).join(', ')})`);
    if (result.examplePrediction) io.out(`input example predicted: ${truncate(encodePredictions(result.examplePrediction), 200)}`);
    if (logged) {
      io.out(`logged to run ${logged.runId} (experiment ${logged.experimentId}) as ${logged.modelUri}; load it with -m ${logged.runModelUri}`);
      if (logged.registeredVersion) io.out(`registered as models:/${logged.registeredVersion.name}/${logged.registeredVersion.version}`);
    }
  }
  return 0;
}
