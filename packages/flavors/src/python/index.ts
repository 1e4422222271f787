/** The `python_function` flavor: MLflow Python models served by worker processes. */
export {
  pythonFunctionFlavor,
  PythonFunctionModel,
  PYTHON_FUNCTION_FLAVOR,
  DEFAULT_PYTHON,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_LOAD_TIMEOUT_MS,
  DEFAULT_REPLY_SPIN_US,
  DEFAULT_IDLE_SPIN_US,
  readPythonOptions,
  type PythonFunctionOptions,
} from './flavor.js';
export {
  PythonLoadError,
  PythonPredictError,
  PythonTimeoutError,
  PythonWorkerError,
  PythonWorkerDiedError,
  PythonProtocolError,
  summarizePythonException,
  type PythonException,
} from './errors.js';
export { PythonPool, type PoolOptions } from './pool.js';
export { PythonWorker, WORKER_SCRIPT, type LoadInfo, type LoadRequest, type WorkerExit } from './worker.js';
export { MessageType, FrameDecoder, encodeFrame, type Frame } from './protocol.js';
export { encodePredictPayload, decodeResultPayload } from './codec.js';
