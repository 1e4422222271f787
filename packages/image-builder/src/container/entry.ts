/**
 * The image's entrypoint (`ENTRYPOINT ["node", "/opt/mlmodel/container/entry.js"]`, `CMD
 * ["serve"]`): turns the container's arguments and environment into an mlmodel command line
 * (serve-args.ts) and runs the CLI in this process, so SIGTERM reaches the server directly.
 * `$MLMODEL_AUTH_TOKEN_FILE` names a file holding the bearer token (a mounted secret). After
 * SIGTERM the server drains; if requests are still in flight after $MLMODEL_DRAIN_TIMEOUT seconds
 * (default 25, inside SageMaker's and Kubernetes' 30 s) the process exits with code 1.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { ContainerUsageError, containerCommand, drainTimeoutMs } from './serve-args.js';

/** Resolved from /opt/mlmodel/node_modules at run time (the image builder does not depend on the CLI). */
const CLI_MODULE = '@mlmodel/cli';

interface Cli {
  main(argv: readonly string[]): Promise<number>;
}

function loadTokenFile(env: NodeJS.ProcessEnv): void {
  const file = env.MLMODEL_AUTH_TOKEN_FILE;
  if (!file || env.MLMODEL_AUTH_TOKEN !== undefined) return;
  try {
    env.MLMODEL_AUTH_TOKEN = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ContainerUsageError(`cannot read $MLMODEL_AUTH_TOKEN_FILE (${file}): ${(e as Error).message}`);
  }
}

function armDrainDeadline(ms: number): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    setTimeout(() => {
      process.stderr.write(`mlmodel: requests still in flight ${ms / 1000} s after ${signal}: exiting without them\n`);
      process.exit(1);
    }, ms).unref();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

async function run(): Promise<number> {
  let argv: string[];
  try {
    loadTokenFile(process.env);
    argv = containerCommand(process.argv.slice(2), process.env);
    // cluster workers get SIGTERM from the primary, which keeps the deadline
    if (argv[0] === 'serve' && cluster.isPrimary) armDrainDeadline(drainTimeoutMs(process.env));
  } catch (e) {
    if (e instanceof ContainerUsageError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const cli = (await import(CLI_MODULE)) as Cli;
  return cli.main(['node', 'mlmodel', ...argv]);
}

process.exitCode = await run();
