/**
 * @mlmodel/flavors — flavor plugins that load a model directory into a LoadedModel, the registry
 * that picks one, the model runner every front end reaches models through, and `buildModel`.
 */
import { jsFunctionFlavor } from './js-function/index.js';
import { onnxFlavor } from './onnx/index.js';
import { pythonFunctionFlavor } from './python/index.js';
import { FlavorRegistry } from './registry.js';
import { tfjsFlavor } from './tfjs/index.js';

export * from './flavor.js';
export * from './registry.js';
export * from './runner/index.js';
export * from './build.js';
export { onnxFlavor } from './onnx/index.js';
export { tfjsFlavor, ensureBackend as ensureTfjsBackend, type TfjsBackendInfo } from './tfjs/index.js';
export * from './js-function/index.js';
export * from './python/index.js';
export * from './python/env/index.js';

/**
 * A registry with the native flavors in the order they are tried (onnx, tfjs, js_function), then
 * python_function over the Python bridge as the fallback.
 */
export function createRegistry(): FlavorRegistry {
  return new FlavorRegistry().register(onnxFlavor).register(tfjsFlavor).register(jsFunctionFlavor).register(pythonFunctionFlavor);
}
