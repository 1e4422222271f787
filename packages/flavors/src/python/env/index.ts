export * from './types.js';
export { PythonEnvError, CommandFailedError } from './errors.js';
export { runCommand, formatCommand, type CommandResult, type RunCommandOptions } from './run-command.js';
export { pythonVersionOf, inspectPython, findLocalPython, findOnPath, envPythonPath, type PythonInfo, type PythonSource } from './interpreter.js';
export { envCacheKey, CACHE_KEY_LENGTH, type EnvFileContents } from './cache-key.js';
export { readModelEnvFiles, type ModelEnvFiles, type EnvFile } from './model-env.js';
export { planEnvironment, envCacheDir, isEnvReady, findCondaExecutable, READY_MARKER } from './plan.js';
export { resolvePython, failingRequirement } from './resolve.js';
