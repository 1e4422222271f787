import { InvalidArgumentError, type Command } from 'commander';

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

export const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
  arrow: 'application/vnd.apache.arrow.stream',
  'arrow-file': 'application/vnd.apache.arrow.file',
};

/** The content type of an input file: from `--content-type` (a short name or a MIME type), else from its extension. */
export function contentTypeFor(file: string, explicit?: string): string {
  if (explicit) return CONTENT_TYPES[explicit] ?? explicit;
  const ext = /\.([a-z]+)$/i.exec(file)?.[1]?.toLowerCase();
  if (ext === 'csv') return CONTENT_TYPES.csv!;
  if (ext === 'parquet' || ext === 'pq') return CONTENT_TYPES.parquet!;
  if (ext === 'arrows') return CONTENT_TYPES.arrow!;
  if (ext === 'arrow' || ext === 'feather') return CONTENT_TYPES['arrow-file']!;
  return CONTENT_TYPES.json!;
}

/** The python_function options shared by predict and serve. */
export interface PythonCliOptions {
  python?: string;
  pythonWorkers?: string;
  envManager?: string;
}

/** Flavor options for python_function models (other flavors ignore them). */
export function pythonOptions(o: PythonCliOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (o.python) out.python = o.python;
  if (o.pythonWorkers !== undefined) {
    const n = Number(o.pythonWorkers);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--python-workers must be a positive integer, got ${o.pythonWorkers}`);
    out.workers = n;
  }
  if (o.envManager) {
    if (!['local', 'virtualenv', 'conda'].includes(o.envManager)) throw new InvalidArgumentError(`--env-manager must be local, virtualenv or conda, got ${o.envManager}`);
    out.envManager = o.envManager;
  }
  return out;
}

/** The options every command that loads a model takes (`--flavor`, `--flavor-option`, `--plugin`, Python's). */
export interface ModelLoadingCliOptions extends PythonCliOptions {
  flavor?: string;
  flavorOption?: string[];
  plugin?: string[];
}

/** Add the model-loading options to a command; `when` ends the --env-manager help ("predicting", "serving"). */
export function withModelLoadingOptions(cmd: Command, when: string): Command {
  return cmd
    .option('--flavor <name>', 'load with this flavor instead of the first native one that can')
    .option('--flavor-option <key=value>', 'a load option for the flavor, e.g. intraOpNumThreads=1 for onnx (value parsed as JSON when it can be; repeatable)', collect)
    .option('--plugin <module>', 'a third-party flavor package or module to register (repeatable; also MLMODEL_PLUGINS=a,b)', collect)
    .option('--python <path>', 'Python interpreter for python_function models (default: $MLMODEL_PYTHON, else /usr/bin/python3)')
    .option('--python-workers <n>', 'Python worker processes per python_function model (default 1)')
    .option('--env-manager <name>', `local, virtualenv or conda: where the Python interpreter comes from (created before ${when})`);
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

/** Flavor load options: `--flavor-option`s, then the Python options on top. */
export function loadOptions(o: ModelLoadingCliOptions): Record<string, unknown> {
  return { ...flavorOptions(o.flavorOption), ...pythonOptions(o) };
}

/** Plugins to register: $MLMODEL_PLUGINS (comma-separated, e.g. set once in a container), then --plugin. */
export function pluginSpecifiers(o: ModelLoadingCliOptions, env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.MLMODEL_PLUGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return [...fromEnv, ...(o.plugin ?? [])];
}
