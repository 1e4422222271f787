/**
 * Python environment managers for python_function models (MLflow's `--env-manager`): find or make,
 * before serving, the interpreter a model runs in. See ../ENVIRONMENTS.md.
 */
export * from './types.js';
export { PythonEnvError, CommandFailedError } from './errors.js';
export { runCommand, formatCommand, type CommandResult, type RunCommandOptions } from './run-command.js';
export { pythonVersionOf, inspectPython, findLocalPython, findOnPath, envPythonPath, type PythonInfo, type PythonSource } from './interpreter.js';
export { envCacheKey, CACHE_KEY_LENGTH, type EnvFileContents } from './cache-key.js';
export { readModelEnvFiles, type ModelEnvFiles, type EnvFile } from './model-env.js';
export { planEnvironment, envCacheDir, isEnvReady, findCondaExecutable, READY_MARKER } from './plan.js';
export { resolvePython, failingRequirement } from './resolve.js';
