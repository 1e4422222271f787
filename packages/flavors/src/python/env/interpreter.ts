import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { CommandFailedError, PythonEnvError } from './errors.js';
import { runCommand } from './run-command.js';

/** What a Python interpreter reports about itself. */
export interface PythonInfo {
  /** The path or name it was asked for. */
  readonly python: string;
  /** `sys.executable` (the real interpreter behind shims and symlinks). */
  readonly executable: string;
  /** `X.Y.Z` */
  readonly version: string;
  /** Whether the `venv` module is importable (`python -m venv` can work). */
  readonly hasVenv: boolean;
  /** Whether `ensurepip` is importable (Debian ships it in python3-venv); without it venvs have no pip. */
  readonly hasEnsurepip: boolean;
}

const PROBE = [
  'import sys, json, importlib.util as u',
  'print(json.dumps({"executable": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3],',
  ' "venv": u.find_spec("venv") is not None, "ensurepip": u.find_spec("ensurepip") is not None}))',
].join('\n');

const PROBE_TIMEOUT_MS = 30_000;

/** Run the interpreter once and ask it for its version and whether it can make virtualenvs. */
export async function inspectPython(python: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<PythonInfo> {
  let stdout: string;
  try {
    ({ stdout } = await runCommand([python, '-c', PROBE], { timeoutMs }));
  } catch (e) {
    const why = e instanceof CommandFailedError ? e.message : String(e);
    throw new PythonEnvError(`the Python interpreter ${JSON.stringify(python)} does not run: ${why}`, { cause: e });
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  let d: { executable?: unknown; version?: unknown; venv?: unknown; ensurepip?: unknown };
  try {
    d = JSON.parse(line) as typeof d;
  } catch (e) {
    throw new PythonEnvError(`${JSON.stringify(python)} does not behave like a Python 3 interpreter: it printed ${JSON.stringify(stdout.slice(0, 200))}`, {
      cause: e,
    });
  }
  return {
    python,
    executable: typeof d.executable === 'string' && d.executable ? d.executable : python,
    version: String(d.version),
    hasVenv: d.venv === true,
    hasEnsurepip: d.ensurepip === true,
  };
}

/** The `X.Y.Z` version of a Python interpreter (a path, or a name looked up on PATH). */
export async function pythonVersionOf(python: string): Promise<string> {
  return (await inspectPython(python)).version;
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    if (!(await stat(p)).isFile()) return false;
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` on PATH, as an absolute path. */
export async function findOnPath(name: string, pathVar = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const p = resolve(dir, name);
    if (await isExecutableFile(p)) return p;
  }
  return undefined;
}

/** Where the local interpreter came from, for messages. */
export type PythonSource = '--python' | 'MLMODEL_PYTHON' | '/usr/bin/python3' | 'PATH';

export const DEFAULT_SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * The interpreter `--env-manager local` uses: `python` (the `--python` option), else
 * `$MLMODEL_PYTHON`, else /usr/bin/python3 when it exists, else `python3` on PATH. Bare names are
 * looked up on PATH; the result is an absolute path.
 */
export async function findLocalPython(python?: string, env: NodeJS.ProcessEnv = process.env): Promise<{ python: string; source: PythonSource }> {
  const given: [string | undefined, PythonSource][] = [
    [python, '--python'],
    [env.MLMODEL_PYTHON || undefined, 'MLMODEL_PYTHON'],
  ];
  for (const [p, source] of given) {
    if (p === undefined) continue;
    if (p.includes('/')) {
      const abs = isAbsolute(p) ? p : resolve(p);
      if (!(await isExecutableFile(abs))) {
        throw new PythonEnvError(`the Python interpreter ${JSON.stringify(p)} (from ${source}) is not an executable file`);
      }
      return { python: abs, source };
    }
    const found = await findOnPath(p, env.PATH);
    if (!found) throw new PythonEnvError(`the Python interpreter ${JSON.stringify(p)} (from ${source}) was not found on PATH`);
    return { python: found, source };
  }
  if (await isExecutableFile(DEFAULT_SYSTEM_PYTHON)) return { python: DEFAULT_SYSTEM_PYTHON, source: '/usr/bin/python3' };
  const onPath = await findOnPath('python3', env.PATH);
  if (onPath) return { python: onPath, source: 'PATH' };
  throw new PythonEnvError(
    'no Python interpreter found: /usr/bin/python3 does not exist and python3 is not on PATH; install Python 3 or pass --python /path/to/python3 (or set MLMODEL_PYTHON)',
  );
}

/** The interpreter inside an environment directory (venv or conda prefix). */
export function envPythonPath(envDir: string): string {
  return process.platform === 'win32' ? join(envDir, 'Scripts', 'python.exe') : join(envDir, 'bin', 'python');
}

/** `3.11` from `3.11.2` (undefined when it does not look like a version). */
export function majorMinor(version: string): string | undefined {
  return /^(\d+)\.(\d+)/.exec(version.trim())?.slice(1, 3).join('.');
}
