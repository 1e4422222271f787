/**
 * Python environment managers for python_function models (MLflow's `--env-manager`): find or make,
 * before serving, the interpreter a model runs in. See ENVIRONMENTS.md; the code is in ./env/.
 */
export * from './env/index.js';
