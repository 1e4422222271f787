/** The native `onnx` flavor (onnxruntime-node). */
export { onnxFlavor, OnnxLoadedModel, ONNX_FLAVOR, ONNX_MODEL_FILE, type OnnxSaveInput } from './flavor.js';
export { OnnxInputError, OnnxModelError, OnnxOutputError, OnnxRunError } from './errors.js';
export { inferSignature } from './signature.js';
export { graphInfo, type GraphInfo, type GraphValue } from './graph.js';
export { readOnnxModelInfo, type OnnxModelInfo } from './model-proto.js';
export { onnxVersionFor, DEFAULT_MLFLOW_VERSION, DEFAULT_PYTHON_VERSION } from './environment.js';
export { parseMlflowSessionOptions, type MlflowSessionOptions, type OnnxLoadOverrides } from './session-options.js';
