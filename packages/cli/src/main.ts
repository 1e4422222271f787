import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MlmodelError } from '@mlmodel/format';
import { collect, MODEL_ARG_HELP, withModelLoadingOptions, type ModelLoadingCliOptions } from './args.js';
import type { BatchCliOptions } from './commands/batch.js';
import type { BuildCliOptions } from './commands/build.js';
import { registerContainerCommands } from './commands/container-commands.js';
import { registerDeployCommands } from './commands/deploy-commands.js';
import { registerTrackingCommands } from './commands/tracking-commands.js';
import type { PredictCliOptions } from './commands/predict.js';
import type { ServeCliOptions } from './commands/serve.js';
import { processIo, type Io } from './output.js';

/** Exit codes shared by every command. */
export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * One value from an option and its alias (MLflow's spelling, e.g. `--model-uri` for `--model`):
 * commander cannot store two long names under one attribute. Both given with different values
 * is a usage error.
 */
function merged<T>(value: T | undefined, alias: T | undefined, flags: string): T | undefined {
  if (value !== undefined && alias !== undefined && JSON.stringify(value) !== JSON.stringify(alias)) {
    throw new InvalidArgumentError(`${flags} are the same option: give one of them (got ${JSON.stringify(value)} and ${JSON.stringify(alias)})`);
  }
  return value ?? alias;
}

/** `--no-conda` (commander stores `conda: false`) is MLflow's `--env-manager local`. */
function envManagerOf(o: { envManager?: unknown; conda?: boolean }): unknown {
  if (o.conda !== false) return o.envManager;
  if (o.envManager !== undefined && o.envManager !== 'local') {
    throw new InvalidArgumentError(`--no-conda means --env-manager local, but --env-manager ${String(o.envManager)} was given too: give one of them`);
  }
  return 'local';
}

/** What commander stores for predict: the options of `PredictCliOptions`, each optional, plus MLflow's spellings. */
interface RawPredictOptions extends ModelLoadingCliOptions {
  model?: string;
  modelUri?: string;
  input?: string;
  inputPath?: string;
  output?: string;
  outputPath?: string;
  contentType?: string;
  conda?: boolean;
}

/** predict's options with MLflow's aliases folded in (`--model-uri`, `--input-path`, `--output-path`, `--no-conda`). */
function predictOptions(o: RawPredictOptions): PredictCliOptions {
  const { modelUri, inputPath, outputPath, conda: _conda, ...rest } = o;
  const model = merged(o.model, modelUri, '-m/--model and --model-uri');
  if (model === undefined) throw new InvalidArgumentError("required option '-m, --model <model>' (or --model-uri) not specified");
  let input = merged(o.input, inputPath, '-i/--input and --input-path');
  if (input === undefined) {
    // MLflow reads stdin without --input-path; a terminal would just wait
    if (process.stdin.isTTY) throw new InvalidArgumentError("required option '-i, --input <file>' (or --input-path) not specified; use -i - to type the input");
    input = '-';
  }
  const output = merged(o.output, outputPath, '-o/--output and --output-path');
  const envManager = envManagerOf(o);
  return { ...rest, model, input, ...(output !== undefined ? { output } : {}), ...(envManager !== undefined ? { envManager } : {}) };
}

/** What commander stores for serve: `ServeCliOptions` with `--model` optional, plus MLflow's spellings and the old `-H`. */
interface RawServeOptions extends ModelLoadingCliOptions {
  model?: string[];
  host?: string;
  modelUri?: string[];
  H?: string;
  conda?: boolean;
}

/** serve's options with MLflow's aliases folded in (`--model-uri`, `--no-conda`; `-H` is the old short flag of `--host`). */
function serveOptions(o: RawServeOptions): ServeCliOptions {
  const { modelUri, conda: _conda, H, ...rest } = o;
  const model = merged(o.model, modelUri, '-m/--model and --model-uri');
  if (model === undefined) throw new InvalidArgumentError("required option '-m, --model <[name[:version]=]path>' (or --model-uri) not specified");
  const host = merged(o.host, H, '-h/--host and -H');
  const envManager = envManagerOf(o);
  // the other options are serve's own, as commander stored them
  return { ...(rest as Partial<ServeCliOptions>), model, ...(host !== undefined ? { host } : {}), ...(envManager !== undefined ? { envManager } : {}) };
}

/** The `mlmodel` command tree. Each action stores its exit code in `result.code`. */
export function buildProgram(io: Io, result: { code: number }): Command {
  const program = new Command('mlmodel')
    .description('Package, inspect and serve MLflow models (the MLmodel format) without a Python stack on the hot path.')
    .version(version(), '-V, --version', 'print the mlmodel version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  program
    .command('info')
    .description('show flavors, signature, input example, environment and provenance of a model')
    .argument('<model>', MODEL_ARG_HELP)
    .option('--json', 'print the information as JSON')
    .action(async (model: string, opts: { json?: boolean }) => {
      // commands load their modules when they run: `mlmodel serve` does not load the image builder, and so on
      const { infoCommand } = await import('./commands/info.js');
      result.code = await infoCommand(model, opts, io);
    });

  program
    .command('validate')
    .description('check a model directory: MLmodel keys and types, signature, referenced files, environment files, input example against the signature')
    .argument('<model>', MODEL_ARG_HELP)
    .option('--json', 'print the result as JSON')
    .action(async (model: string, opts: { json?: boolean }) => {
      const { validateCommand } = await import('./commands/validate.js');
      result.code = await validateCommand(model, opts, io);
    });

  program
    .command('build')
    .description('package a model as an MLflow model directory (MLmodel, files, signature, input example), after checking the example runs')
    .option('--onnx <file>', 'an ONNX model file')
    .option('--tfjs <dir|json>', 'a TensorFlow.js model: its directory (model.json + weight shards) or its model JSON file')
    .option('--js <module>', 'a JS module exporting load(context) → { predict(batch, params) }')
    .option('--artifact <name=path>', 'a file or directory the JS model reads (repeatable)', collect)
    .option('--code <path>', "extra code the JS module imports: files or directories inside the module's directory (repeatable)", collect)
    .option('--config <key=value>', 'model_config entry passed to the JS model (repeatable)', collect)
    .option('--input-example <file>', 'an example request (JSON in any MLflow form, CSV, Parquet or Arrow)')
    .option('--signature <file|infer>', 'a signature JSON file ({"inputs", "outputs", "params"}), or infer (default)')
    .option('--param <name=type:default>', 'an inference param, e.g. temperature=double:0.5 (repeatable)', collect)
    .option('--metadata <key=value>', 'free-form metadata (repeatable)', collect)
    .option(
      '--experiment <name>',
      'log the model to a new run of this MLflow experiment (created if missing): an MLflow 3 logged model with the files, run_id and model_id in MLmodel, the build options as params',
    )
    .option(
      '--run-id <id>',
      'log the model to this existing run instead (with no tracking store configured: only record it in MLmodel as the run that produced the model)',
    )
    .option('--run-name <name>', "the new run's name (with --experiment)")
    .option('--model-name <name>', "the logged model's name (default model, so runs:/<run>/model loads it)")
    .option('--registered-model-name <name>', 'also register the logged model as a new version of this registered model')
    .option(
      '--tracking-uri <uri>',
      'where to log: an MLflow tracking server (http(s)://…) or an mlruns directory (default $MLFLOW_TRACKING_URI, else ./mlruns)',
    )
    .requiredOption('-o, --output <dir>', 'the model directory to create')
    .option('--json', 'print the result as JSON')
    .action(async (opts: BuildCliOptions) => {
      const { buildCommand } = await import('./commands/build.js');
      result.code = await buildCommand(opts, io);
    });

  const predict = program
    .command('predict')
    .description('score one input file with a model (same parsing and checks as the server)')
    .option('-m, --model <model>', `${MODEL_ARG_HELP} (required; MLflow's --model-uri works too)`)
    .addOption(new Option('--model-uri <model>', "same as --model (MLflow's name)"))
    .option('-i, --input <file>', "input file, or - for stdin (default: stdin when it is not a terminal; MLflow's --input-path works too)")
    .addOption(new Option('--input-path <file>', "same as --input (MLflow's name)"))
    .option('-t, --content-type <type>', 'json, csv, parquet, arrow, arrow-file, or a MIME type (default: from the file extension, else json)')
    .option('-o, --output <file>', "write predictions here instead of stdout (MLflow's --output-path works too)")
    .addOption(new Option('--output-path <file>', "same as --output (MLflow's name)"));
  withModelLoadingOptions(predict, 'predicting');
  predict.option('--no-conda', "MLflow's alias for --env-manager local: run Python models in the given interpreter").action(async (opts: RawPredictOptions) => {
    const { predictCommand } = await import('./commands/predict.js');
    result.code = await predictCommand(predictOptions(opts), io);
  });

  const serve = program
    .command('serve')
    .description("run the REST scoring server: MLflow's protocol (/invocations, /ping), Open Inference Protocol v2 (/v2), /metrics, /openapi.json, /docs")
    .helpOption('--help', 'display help for command') // -h is --host, as in `mlflow models serve`
    .option(
      '-m, --model <[name[:version]=]path>',
      "a model to serve (repeatable; required): a directory, MLmodel file, file:// URI, runs:/…, models:/… or mlflow-artifacts:/… URI; /invocations serves the first (MLflow's --model-uri works too)",
      collect,
    )
    .addOption(new Option('--model-uri <[name[:version]=]path>', "same as --model (MLflow's name)").argParser(collect))
    .option('-h, --host <host>', 'interface to bind (default $MLMODEL_HOST, $MLFLOW_HOST, else 127.0.0.1; 0.0.0.0 in a container)')
    .addOption(new Option('-H <host>', 'same as --host').hideHelp())
    .option('-p, --port <port>', 'port (default $SAGEMAKER_BIND_TO_PORT, $MLMODEL_PORT, $MLFLOW_PORT, else 5000; 8080 in a container)')
    .option(
      '-w, --workers <n>',
      'server processes sharing the port (default $MLFLOW_MODELS_WORKERS, else one per core when every model predicts in process ' +
        '(onnx, tfjs, js_function; capped to fit half the memory), else 1 (python_function models use --python-workers); ' +
        'with several processes onnx gets cores/processes intra-op threads unless --flavor-option intraOpNumThreads or the MLmodel sets them)',
    )
    .option(
      '--max-batch-size <[name=]n>',
      'merge concurrent requests into model calls of up to n rows (adaptive batching; 1 = off; repeatable per model). ' +
        'Default: 64 rows without delay for models whose rows are found to merge without changing answers (onnx with a variable first dimension), else off',
      collect,
    )
    .option(
      '--max-batch-delay-ms <[name=]ms>',
      'longest a request waits for others when the model is idle (default 2 with --max-batch-size, 0 for automatic batching)',
      collect,
    )
    .option('--max-queue-size <[name=]n>', 'requests waiting for a batched model before 503 + Retry-After (default 1024)', collect)
    .option('-t, --timeout <seconds>', 'per-request timeout, then 504 (default $MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT, else 60)')
    .option('--body-limit-mb <mb>', 'largest request body, then 413 (default 100)')
    .option(
      '--memory-budget-mb <mb>',
      'memory large requests (≥ 1 MiB) may reserve at once per process, 8× their body each; a request that does not fit gets 503 + Retry-After (default: a quarter of the memory, at most 2048, shared by the server processes)',
    )
    .option(
      '--auth-token <token>',
      'require "Authorization: Bearer <token>" except on health checks (prefer $MLMODEL_AUTH_TOKEN; surrounding whitespace such as a trailing newline is trimmed; empty is refused)',
    )
    .option('--cors <origin>', 'allow browser requests from this origin, or * (repeatable)', collect)
    .option('--log-level <level>', 'fatal, error, warn, info (one JSON line per request), debug or silent (default $MLMODEL_LOG_LEVEL, else info)')
    .option('--stack-traces', 'add stack_trace to unexpected-error bodies, as MLflow does');
  withModelLoadingOptions(serve, 'serving');
  serve.option('--no-conda', "MLflow's alias for --env-manager local: run Python models in the given interpreter").action(async (opts: RawServeOptions) => {
    const { serveCommand } = await import('./commands/serve.js');
    result.code = await serveCommand(serveOptions(opts), io, version());
  });

  const batch = program
    .command('batch')
    .description('score Parquet, Arrow and CSV files far larger than memory on every core, into one output table (input columns + predictions)')
    .requiredOption('-m, --model <model>', 'model directory, its MLmodel file, or a file:// URI')
    .requiredOption('-i, --input <paths...>', 'Parquet, Arrow IPC or CSV files, directories of them, or globs (repeatable; read in order)')
    .requiredOption('-o, --output <file>', 'the output table; it appears only when the run succeeds')
    .option('--format <format>', 'output format: parquet, arrow, arrow-stream, csv or jsonl (default: from the output extension)')
    .option('--workers <n>', 'parallel model calls: worker threads with a model copy each, or Python processes for python_function models (default: the cores)')
    .option('--batch-rows <n>', 'most rows per chunk and model call (default 65536; chunks also stay under 64 MiB)')
    .option(
      '--columns <a,b>',
      "the input columns the model gets, in this order (default: all; needed when a file has columns the model's signature does not expect)",
    )
    .option('--keep-columns <a,b|all|none>', 'input columns written next to the predictions (default all)')
    .option('--on-error <mode>', 'a chunk that fails: fail (stop, default), skip (leave out its failing rows) or null (keep them with null predictions)')
    .option('--compression <codec>', 'Parquet compression: zstd, snappy (default) or none')
    .option('--params <json>', 'inference params as a JSON object, checked against the signature')
    .option('--progress <mode>', 'auto (a bar on a terminal, else JSON lines on stderr), bar, json or none')
    .option('--progress-interval <seconds>', 'seconds between progress updates (default 0.2 for the bar, 5 for JSON lines)')
    .option('--json', 'print the summary as JSON (the default when stdout is not a terminal)')
    .addHelpText(
      'after',
      '\nExit codes: 0 every row scored, 1 error (nothing written), 2 usage, 3 done but rows were skipped or nulled, 130/143 interrupted (nothing written).',
    );
  withModelLoadingOptions(batch, 'scoring');
  batch.action(async (opts: BatchCliOptions) => {
    // loaded on use: the batch scorer brings Arrow, Parquet and piscina, which the other commands do without
    const { batchCommand } = await import('./commands/batch.js');
    result.code = await batchCommand(opts, io);
  });

  registerContainerCommands(program, io, result);
  registerTrackingCommands(program, io, result);
  registerDeployCommands(program, io, result);

  // every command, nested ones too (deploy sagemaker create …), exits through main() and writes through io
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/**
 * Run the CLI and return the exit code: 0 ok, 1 user error (one line on stderr, no stack trace),
 * 2 usage error. Unexpected errors (bugs) print their stack and also return 1.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const result = { code: EXIT_OK };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync([...argv]);
    return result.code;
  } catch (e) {
    if (e instanceof InvalidArgumentError) {
      // thrown by our own argument checks inside an action: commander has not printed it
      io.err(`error: ${e.message}`);
      return EXIT_USAGE;
    }
    if (e instanceof CommanderError) {
      // --help and --version exit 0; anything else commander rejects is a usage error
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof MlmodelError && e.userError) {
      io.err(`error: ${e.message}`);
      return EXIT_USER_ERROR;
    }
    io.err(`internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EXIT_USER_ERROR;
  }
}
