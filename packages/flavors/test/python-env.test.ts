import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMLmodel, openModelDir, writeMLmodel, type FlavorConfig, type ModelDir } from '@mlmodel/format';
import type { FlavorLogger } from '../src/flavor.js';
import {
  CommandFailedError,
  PythonEnvError,
  READY_MARKER,
  envCacheKey,
  failingRequirement,
  findLocalPython,
  planEnvironment,
  pythonVersionOf,
  resolvePython,
  runCommand,
} from '../src/python/env/index.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const IRIS = join(FIXTURES, 'iris_sklearn');
const SYS_PY = '/usr/bin/python3';
const IRIS_REQUIREMENTS = (
  'mlflow==3.5.1 cloudpickle==2.2.0 joblib==1.2.0 lz4==4.0.2 numpy==1.24.2 packaging==23.0 pyyaml==6.0 ' +
  'scikit-learn==1.2.1 scipy==1.10.1 threadpoolctl==3.1.0 typing-extensions==4.4.0 pip==23.0.1 setuptools==66.1.1 wheel==0.38.4'
).split(' ');
/** Only PATH from the real environment: MLMODEL_* set by whoever runs the tests must not change the answers. */
const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };

class CollectingLogger implements FlavorLogger {
  readonly infos: string[] = [];
  readonly warns: string[] = [];
  info(msg: string): void {
    this.infos.push(msg);
  }
  warn(msg: string): void {
    this.warns.push(msg);
  }
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-pyenv-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
async function freshDir(name: string): Promise<string> {
  const d = join(root, `${name}-${++counter}`);
  await mkdir(d, { recursive: true });
  return d;
}

/** A python_function model directory with the given env files (undefined = absent). */
async function makeModel(files: { pythonEnv?: string; requirements?: string; conda?: string; pythonVersion?: string }): Promise<ModelDir> {
  const dir = await freshDir('model');
  const env: Record<string, string> = {};
  if (files.pythonEnv !== undefined) {
    await writeFile(join(dir, 'python_env.yaml'), files.pythonEnv);
    env.virtualenv = 'python_env.yaml';
  }
  if (files.conda !== undefined) {
    await writeFile(join(dir, 'conda.yaml'), files.conda);
    env.conda = 'conda.yaml';
  }
  if (files.requirements !== undefined) await writeFile(join(dir, 'requirements.txt'), files.requirements);
  const pf: FlavorConfig = { loader_module: 'mlflow.pyfunc.model', python_model: 'python_model.pkl', env };
  if (files.pythonVersion) pf.python_version = files.pythonVersion;
  await writeMLmodel(dir, createMLmodel({ flavors: { python_function: pf } }));
  return openModelDir(dir);
}

const sysVersion = (): string => execFileSync(SYS_PY, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim();

describe('pythonVersionOf and the local interpreter', () => {
  it('reports the version the interpreter itself prints', async () => {
    expect(await pythonVersionOf(SYS_PY)).toBe(sysVersion());
  });

  it('rejects something that is not a Python interpreter with a PythonEnvError naming it', async () => {
    await expect(pythonVersionOf('/bin/true')).rejects.toThrow(/"\/bin\/true" does not behave like a Python 3 interpreter/);
    await expect(pythonVersionOf(join(root, 'no-such-python'))).rejects.toBeInstanceOf(PythonEnvError);
  });

  it('picks --python, then MLMODEL_PYTHON, then /usr/bin/python3, and looks bare names up on PATH', async () => {
    expect(await findLocalPython(undefined, CLEAN_ENV)).toEqual({ python: SYS_PY, source: '/usr/bin/python3' });
    expect(await findLocalPython(undefined, { ...CLEAN_ENV, MLMODEL_PYTHON: '/usr/bin/python3.11' })).toEqual({
      python: '/usr/bin/python3.11',
      source: 'MLMODEL_PYTHON',
    });
    const viaPath = await findLocalPython('python3', { PATH: '/usr/bin' });
    expect(viaPath).toEqual({ python: '/usr/bin/python3', source: '--python' });
    await expect(findLocalPython('python-that-does-not-exist', { PATH: '/usr/bin' })).rejects.toThrow(
      /"python-that-does-not-exist" \(from --python\) was not found on PATH/,
    );
  });
});

describe('local env manager', () => {
  it('runs the model in the local interpreter and reports its version', async () => {
    const model = await makeModel({ pythonEnv: `python: ${sysVersion()}\nbuild_dependencies: []\ndependencies: []\n`, requirements: '' });
    const log = new CollectingLogger();
    const r = await resolvePython(model, { env: CLEAN_ENV, logger: log });
    expect(r).toMatchObject({ python: SYS_PY, version: sysVersion(), envManager: 'local', requested: 'local', created: false, commands: [] });
    expect(log.warns).toEqual([]);
  });

  it('warns when the model was saved with another Python major.minor', async () => {
    const model = await makeModel({ pythonVersion: '3.7.16' });
    const log = new CollectingLogger();
    const r = await resolvePython(model, { env: CLEAN_ENV, logger: log, python: SYS_PY });
    expect(r.python).toBe(SYS_PY);
    expect(log.warns).toHaveLength(1);
    expect(log.warns[0]).toContain(`saved with Python 3.7.16, but ${SYS_PY} (from --python) is Python ${sysVersion()}`);
  });
});

describe('envCacheKey', () => {
  const pyEnv = 'python: 3.11.2\nbuild_dependencies:\n- pip==23.0.1\ndependencies:\n- -r requirements.txt\n';
  it('depends on the meaning of the files, not their formatting', () => {
    const a = envCacheKey({ pythonEnv: pyEnv, others: { 'requirements.txt': 'numpy==1.24.2\nscipy==1.10.1' } });
    const b = envCacheKey({
      pythonEnv: 'dependencies: ["-r requirements.txt"]\r\npython: "3.11.2"\r\nbuild_dependencies: [pip==23.0.1]\r\n',
      others: { 'requirements.txt': '# pinned\nnumpy==1.24.2   \n\nscipy==1.10.1  # comment\n' },
    });
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(b).toBe(a);
  });

  it('changes with any requirement, the python version or the context', () => {
    const base = envCacheKey({ pythonEnv: pyEnv, others: { 'requirements.txt': 'numpy==1.24.2' } });
    const keys = [
      envCacheKey({ pythonEnv: pyEnv, others: { 'requirements.txt': 'numpy==1.24.3' } }),
      envCacheKey({ pythonEnv: pyEnv.replace('3.11.2', '3.10.0'), others: { 'requirements.txt': 'numpy==1.24.2' } }),
      envCacheKey({ pythonEnv: pyEnv, others: { 'requirements.txt': 'numpy==1.24.2' } }, { version: '3.11.7' }),
      envCacheKey({ pythonEnv: pyEnv }),
    ];
    expect(new Set([base, ...keys]).size).toBe(5);
  });
});

describe('virtualenv env manager (real venvs)', () => {
  const emptyEnv = { pythonEnv: `python: ${'3.11.2'}\nbuild_dependencies: []\ndependencies:\n- -r requirements.txt\n`, requirements: '\n# nothing\n' };

  it('creates a venv once with /usr/bin/python3 -m venv, then reuses it untouched', async () => {
    const model = await makeModel(emptyEnv);
    const cacheDir = await freshDir('cache');
    const log = new CollectingLogger();
    const opts = { envManager: 'virtualenv' as const, cacheDir, env: CLEAN_ENV, logger: log };

    const first = await resolvePython(model, opts);
    expect(first.created).toBe(true);
    expect(first.envManager).toBe('virtualenv');
    expect(first.envDir).toMatch(new RegExp(`^${cacheDir}/mlmodel-[0-9a-f]{40}$`));
    expect(first.python).toBe(join(first.envDir!, 'bin', 'python'));
    // python3-venv (ensurepip) is installed here, so no --without-pip; no requirements, so no pip install
    expect(first.commands).toEqual([[SYS_PY, '-m', 'venv', first.envDir]]);
    expect(first.version).toBe(sysVersion());
    const prefix = execFileSync(first.python, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
    expect(prefix).toBe(first.envDir);
    const marker = JSON.parse(await readFile(join(first.envDir!, READY_MARKER), 'utf8')) as { commands: unknown };
    expect(marker.commands).toEqual(first.commands);
    const mtime = (await stat(join(first.envDir!, READY_MARKER))).mtimeMs;
    // only the environment is left in the cache: no lock directory, no temporary files
    expect(await readdir(cacheDir)).toEqual([first.envDir!.split('/').pop()]);

    const second = await resolvePython(model, opts);
    expect(second).toMatchObject({ created: false, python: first.python, envDir: first.envDir, commands: [], version: first.version });
    expect((await stat(join(first.envDir!, READY_MARKER))).mtimeMs).toBe(mtime);
    expect(log.infos.some((l) => l.startsWith(`reusing the virtualenv environment at ${first.envDir}`))).toBe(true);
    const plan = await planEnvironment(model, opts);
    expect(plan.ready).toBe(true);
  }, 120_000);

  it('serializes concurrent creators: one creates, the other waits and reuses', async () => {
    const model = await makeModel(emptyEnv);
    const cacheDir = await freshDir('cache');
    const opts = { envManager: 'virtualenv' as const, cacheDir, env: CLEAN_ENV };
    const [a, b] = await Promise.all([resolvePython(model, opts), resolvePython(model, opts)]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.python).toBe(b.python);
    expect(await readdir(cacheDir)).toHaveLength(1);
  }, 120_000);

  it('replaces a half-made environment (no ready marker) left by a crash', async () => {
    const model = await makeModel(emptyEnv);
    const cacheDir = await freshDir('cache');
    const opts = { envManager: 'virtualenv' as const, cacheDir, env: CLEAN_ENV };
    const plan = await planEnvironment(model, opts);
    await mkdir(join(plan.envDir!, 'bin'), { recursive: true });
    await writeFile(join(plan.envDir!, 'leftover'), 'partial');
    expect(plan.ready).toBe(false);
    const r = await resolvePython(model, opts);
    expect(r.created).toBe(true);
    expect(r.envDir).toBe(plan.envDir);
    expect(existsSync(join(plan.envDir!, 'leftover'))).toBe(false);
    expect(existsSync(join(plan.envDir!, READY_MARKER))).toBe(true);
  }, 120_000);

  it('plans the exact commands for the MLflow iris_sklearn model', async () => {
    const model = await openModelDir(IRIS);
    const cacheDir = await freshDir('cache');
    const plan = await planEnvironment(model, { envManager: 'virtualenv', cacheDir, env: CLEAN_ENV });
    const envDir = join(cacheDir, `mlmodel-${plan.cacheKey}`);
    const py = join(envDir, 'bin', 'python');
    expect(plan).toMatchObject({ requested: 'virtualenv', envManager: 'virtualenv', envDir, python: py, ready: false, modelPythonVersion: '3.11.2' });
    expect(plan.commands).toEqual([
      [SYS_PY, '-m', 'venv', envDir],
      [py, '-m', 'pip', 'install', 'pip==23.0.1', 'setuptools==66.1.1', 'wheel==0.38.4'],
      [py, '-m', 'pip', 'install', '-r', join(IRIS, 'requirements.txt')],
    ]);
    expect(plan.commandEnv).toEqual({ PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' });
    expect(plan.missingTool).toBeUndefined();

    const offline = await planEnvironment(model, { envManager: 'virtualenv', cacheDir, env: CLEAN_ENV, offline: true });
    expect(offline.envDir).toBe(envDir); // offline does not change what gets installed
    expect(offline.commands[2]).toEqual([py, '-m', 'pip', 'install', '--no-index', '-r', join(IRIS, 'requirements.txt')]);
  });

  it('plans uv commands with the saved Python version, and says to install uv when it is missing', async () => {
    const model = await openModelDir(IRIS);
    const cacheDir = await freshDir('cache');
    const uv = '/opt/tools/uv';
    const plan = await planEnvironment(model, { envManager: 'virtualenv', installer: 'uv', uv, cacheDir, env: CLEAN_ENV });
    const envDir = join(cacheDir, `mlmodel-${plan.cacheKey}`);
    const py = join(envDir, 'bin', 'python');
    expect(plan.commands).toEqual([
      [uv, 'venv', '--python', '3.11.2', envDir],
      [uv, 'pip', 'install', '--python', py, 'pip==23.0.1', 'setuptools==66.1.1', 'wheel==0.38.4'],
      [uv, 'pip', 'install', '--python', py, '-r', join(IRIS, 'requirements.txt')],
    ]);
    const pipPlan = await planEnvironment(model, { envManager: 'virtualenv', cacheDir, env: CLEAN_ENV });
    expect(pipPlan.cacheKey).not.toBe(plan.cacheKey);

    const noUv = { envManager: 'virtualenv' as const, installer: 'uv' as const, cacheDir, env: { PATH: '/usr/bin:/bin' } };
    expect((await planEnvironment(model, noUv)).missingTool).toMatch(/^uv /);
    await expect(resolvePython(model, noUv)).rejects.toThrow(
      /--env-manager uv needs uv on PATH \(see https:\/\/docs.astral.sh\/uv\/\), or use --env-manager virtualenv, which installs with pip; it was not found/,
    );
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('a failed install (offline, real pip) names the requirement, shows pip output, and leaves nothing in the cache', async () => {
    const model = await openModelDir(IRIS);
    const cacheDir = await freshDir('cache');
    const err = await resolvePython(model, { envManager: 'virtualenv', cacheDir, env: CLEAN_ENV, offline: true, timeoutMs: 90_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PythonEnvError);
    const e = err as PythonEnvError;
    const req = /"([^"]+)" could not be installed/.exec(e.message)?.[1];
    expect(IRIS_REQUIREMENTS).toContain(req);
    expect(e.message).toMatch(/`\S+\/bin\/python -m pip install --no-index .*` exited with code 1; its last output:/);
    expect(e.message).toContain(`No matching distribution found for ${req}`);
    expect(e.message).toContain('Offline mode is on');
    expect(e.command?.slice(1, 5)).toEqual(['-m', 'pip', 'install', '--no-index']);
    expect(await readdir(cacheDir)).toEqual([]);
  }, 120_000);

  it('a creation that runs past its timeout is stopped and removed', async () => {
    const model = await openModelDir(IRIS);
    const cacheDir = await freshDir('cache');
    // `python -m venv` with ensurepip takes seconds here; 300 ms stops it while it is writing the env
    const err = await resolvePython(model, { envManager: 'virtualenv', cacheDir, env: CLEAN_ENV, timeoutMs: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PythonEnvError);
    expect((err as Error).message).toMatch(/`\/usr\/bin\/python3 -m venv \S+` did not finish within 300 ms and was stopped/);
    expect(((err as Error).cause as CommandFailedError).timedOut).toBe(true);
    expect(await readdir(cacheDir)).toEqual([]);
  }, 60_000);
});

describe('conda env manager', () => {
  it('plans `conda env create -f conda.yaml -p <dir>` (and micromamba create) for iris_sklearn', async () => {
    const model = await openModelDir(IRIS);
    const cacheDir = await freshDir('cache');
    const conda = await planEnvironment(model, { envManager: 'conda', condaExecutable: '/opt/conda/bin/conda', cacheDir, env: CLEAN_ENV });
    const envDir = join(cacheDir, `mlmodel-${conda.cacheKey}`);
    expect(conda).toMatchObject({ envManager: 'conda', envDir, python: join(envDir, 'bin', 'python'), ready: false, modelPythonVersion: '3.11.2' });
    expect(conda.commands).toEqual([['/opt/conda/bin/conda', 'env', 'create', '-f', join(IRIS, 'conda.yaml'), '-p', envDir]]);

    const mm = await planEnvironment(model, { envManager: 'conda', condaExecutable: '/usr/local/bin/micromamba', cacheDir, env: CLEAN_ENV, offline: true });
    expect(mm.commands).toEqual([['/usr/local/bin/micromamba', 'create', '-y', '--offline', '-f', join(IRIS, 'conda.yaml'), '-p', mm.envDir]]);

    const offlineConda = await planEnvironment(model, { envManager: 'conda', condaExecutable: 'mamba', cacheDir, env: CLEAN_ENV, offline: true });
    expect(offlineConda.commandEnv).toEqual({ CONDA_OFFLINE: 'true' });
  });

  it('fails clearly, before touching the cache, when no conda executable exists', async () => {
    const model = await openModelDir(IRIS);
    const cacheDir = await freshDir('cache');
    const opts = { envManager: 'conda' as const, cacheDir, env: { PATH: join(root, 'empty-bin') } };
    const plan = await planEnvironment(model, opts);
    expect(plan.commands[0]!.slice(0, 3)).toEqual(['conda', 'env', 'create']);
    expect(plan.missingTool).toContain('micromamba');
    await expect(resolvePython(model, opts)).rejects.toThrow(
      /^--env-manager conda needs a conda-compatible tool: micromamba .*Miniforge \(mamba\/conda\) or Miniconda, on PATH or named with MLMODEL_CONDA_EXE/,
    );
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('falls back to the local interpreter with a warning when the model has no conda.yaml', async () => {
    const model = await makeModel({ pythonEnv: 'python: 3.11.2\nbuild_dependencies: []\ndependencies: []\n' });
    const log = new CollectingLogger();
    const r = await resolvePython(model, { envManager: 'conda', env: CLEAN_ENV, logger: log, python: SYS_PY });
    expect(r).toMatchObject({ requested: 'conda', envManager: 'local', python: SYS_PY, created: false });
    expect(log.warns[0]).toBe(`the model at ${model.dir} has no conda.yaml; using the local Python environment instead (as MLflow does)`);
  });
});

describe('runCommand', () => {
  it('kills a command (and its children) that runs past the timeout', async () => {
    const started = Date.now();
    const script = 'import subprocess, time\np = subprocess.Popen(["sleep", "30"])\nprint(p.pid, flush=True)\ntime.sleep(30)';
    const err = await runCommand([SYS_PY, '-c', script], { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as CommandFailedError).timedOut).toBe(true);
    expect((err as Error).message).toContain('did not finish within 500 ms and was stopped');
    // 'close' fires only once every process holding the pipes (the sleep child too) has gone
    expect(Date.now() - started).toBeLessThan(5000);
    const sleepPid = Number((err as CommandFailedError).outputTail);
    expect(sleepPid).toBeGreaterThan(0);
    // gone, or a zombie waiting for a reaper: either way no longer running
    const state = await readFile(`/proc/${sleepPid}/stat`, 'utf8').then(
      (t) => t.slice(t.lastIndexOf(')') + 2)[0],
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
  });

  it('keeps the stderr tail and forwards every line to the logger', async () => {
    const log = new CollectingLogger();
    const script = 'import sys\nfor i in range(100): print(f"line {i}", file=sys.stderr)\nprint("out")\nsys.exit(3)';
    const err = (await runCommand([SYS_PY, '-c', script], { logger: log, label: 'py', tailLines: 5 }).catch((e: unknown) => e)) as CommandFailedError;
    expect(err.exitCode).toBe(3);
    expect(err.outputTail).toBe(['line 95', 'line 96', 'line 97', 'line 98', 'line 99'].join('\n'));
    expect(err.message).toMatch(/exited with code 3; its last output:\nline 95\n/);
    expect(log.infos).toHaveLength(101);
    expect(log.infos).toContain('py: out');
  });

  it('names an executable that does not exist', async () => {
    await expect(runCommand(['/nonexistent/tool', '--version'])).rejects.toThrow(
      'could not start `/nonexistent/tool --version`: /nonexistent/tool was not found',
    );
  });
});

describe('failingRequirement', () => {
  it('finds the requirement in pip and uv output', () => {
    expect(
      failingRequirement(
        'ERROR: Could not find a version that satisfies the requirement numpy==9.9 (from versions: none)\nERROR: No matching distribution found for numpy==9.9',
      ),
    ).toBe('numpy==9.9');
    expect(
      failingRequirement(
        '  × No solution found when resolving dependencies:\n  ╰─▶ Because nosuchpkg was not found in the package registry and you require nosuchpkg',
      ),
    ).toBe('nosuchpkg');
    expect(failingRequirement('some other failure')).toBeUndefined();
  });
});
