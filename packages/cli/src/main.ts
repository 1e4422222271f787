import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { MlmodelError } from '@mlmodel/format';
import { infoCommand } from './commands/info.js';
import { validateCommand } from './commands/validate.js';
import { processIo, type Io } from './output.js';

/** Exit codes shared by every command. */
export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
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
    .argument('<model>', 'model directory, its MLmodel file, or a file:// URI')
    .option('--json', 'print the information as JSON')
    .action(async (model: string, opts: { json?: boolean }) => {
      result.code = await infoCommand(model, opts, io);
    });

  program
    .command('validate')
    .description('check a model directory: MLmodel keys and types, signature, referenced files, environment files, input example against the signature')
    .argument('<model>', 'model directory, its MLmodel file, or a file:// URI')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, opts: { json?: boolean }) => {
      result.code = await validateCommand(model, opts, io);
    });

  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
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
