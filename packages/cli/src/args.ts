import { InvalidArgumentError, type Command } from 'commander';
import { createRegistry, type LoadOptionFlag } from '@mlmodel/flavors';
import { CONTENT_TYPE_SHORT_NAMES, contentTypeForFile, MlmodelError, type ModelUriResolver } from '@mlmodel/format';

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parse repeated `key=value` options into a record; a usage error if `=` is missing. */
export function keyValues(values: readonly string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const at = v.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`${what} must be name=value, got ${JSON.stringify(v)}`);
    out[v.slice(0, at)] = v.slice(at + 1);
  }
  return out;
}

/** `--content-type` short names (json, csv, parquet, arrow (stream), arrow-file): format's table, re-exported. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = CONTENT_TYPE_SHORT_NAMES;

/** The content type of an input file: from `--content-type` (a short name or a MIME type), else from its extension (format's `contentTypeForFile`). */
export const contentTypeFor: (file: string, explicit?: string) => string = contentTypeForFile;

/**
 * The options every command that loads a model takes: `--flavor`, `--flavor-option`, `--plugin`,
 * and the flags the flavors declare for their own load options (e.g. python_function's
 * `--python-workers`), stored by commander under their camel-cased names.
 */
export interface ModelLoadingCliOptions {
  flavor?: string;
  flavorOption?: string[];
  plugin?: string[];
  readonly [flag: string]: unknown;
}

/** The built-in flavors' flags (a plugin's options go through --flavor-option). */
const FLAVOR_FLAGS: readonly LoadOptionFlag[] = createRegistry().optionFlags();

/** The attribute commander stores a flag's value under: `--python-workers <n>` → `pythonWorkers`. */
function attributeOf(flag: LoadOptionFlag): string {
  const long = flag.flag.split(/\s+/)[0]!.replace(/^--/, '');
  return long.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Add the model-loading options to a command; `when` ends help texts that say when something happens ("predicting", "serving"). */
export function withModelLoadingOptions(cmd: Command, when: string): Command {
  cmd
    .option('--flavor <name>', 'load with this flavor instead of the first native one that can')
    .option(
      '--flavor-option <key=value>',
      'a load option for the flavor, e.g. intraOpNumThreads=1 for onnx (value parsed as JSON when it can be; repeatable)',
      collect,
    )
    .option('--plugin <module>', 'a third-party flavor package or module to register (repeatable; also MLMODEL_PLUGINS=a,b)', collect);
  for (const f of FLAVOR_FLAGS) cmd.option(f.flag, f.description.replace('{when}', when));
  return cmd;
}

/** `--flavor-option key=value`: the value as JSON when it parses (numbers, booleans, lists), else as a string. */
export function flavorOptions(values: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values ?? []) {
    const at = v.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`--flavor-option must be key=value, got ${JSON.stringify(v)}`);
    const raw = v.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[v.slice(0, at)] = value;
  }
  return out;
}

/**
 * Flavor load options: `--flavor-option`s, then the flavors' own flags on top, checked by the
 * flavors (a bad value is a usage error, before anything loads).
 */
export function loadOptions(o: ModelLoadingCliOptions): Record<string, unknown> {
  const out = flavorOptions(o.flavorOption);
  for (const f of FLAVOR_FLAGS) {
    const v = o[attributeOf(f)];
    if (v !== undefined) out[f.option] = v;
  }
  try {
    createRegistry().checkOptions(out);
  } catch (e) {
    if (e instanceof MlmodelError) throw new InvalidArgumentError(e.message);
    throw e;
  }
  return out;
}

/** Plugins to register: $MLMODEL_PLUGINS (comma-separated, e.g. set once in a container), then --plugin. */
export function pluginSpecifiers(o: ModelLoadingCliOptions, env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.MLMODEL_PLUGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return [...fromEnv, ...(o.plugin ?? [])];
}

/** What `-m` takes, for help texts. */
export const MODEL_ARG_HELP =
  'a model directory, its MLmodel file, a file:// URI, or runs:/<run>/<path>, models:/<name>/<version|stage|latest>, models:/<name>@<alias>, models:/m-<id>, mlflow-artifacts:/…';

/**
 * The resolver every command that takes a model (`-m`) passes to `openModelDir`,
 * `ModelRunner.open` or the server: `runs:/`, `models:/` and `mlflow-artifacts:/` URIs are
 * downloaded once from $MLFLOW_TRACKING_URI (or ./mlruns) into the model cache
 * ($MLMODEL_CACHE_DIR, else ~/.cache/mlmodel) and become that local directory. Local paths never
 * reach it, and the tracking client is loaded only for the first remote URI. `log` gets one line
 * per download (give it stderr). Resolutions are pinned in this process's environment, so forked
 * server workers load the same version of an alias.
 */
export function modelResolver(opts: { log?: (message: string) => void; env?: NodeJS.ProcessEnv } = {}): ModelUriResolver {
  const env = opts.env ?? process.env;
  let inner: Promise<ModelUriResolver> | undefined;
  return async (uri, raw) => {
    inner ??= import('@mlmodel/tracking-client').then(({ createModelResolver }) =>
      createModelResolver({ env, pinIn: env, ...(opts.log ? { log: (m: string) => opts.log!(`mlmodel: ${m}`) } : {}) }),
    );
    return (await inner)(uri, raw);
  };
}
