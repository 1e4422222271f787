/**
 * @mlmodel/flavors — flavor plugins that load a model directory into a LoadedModel, the registry
 * that picks one, the shared predict path, and `buildModel`.
 */
import { jsFunctionFlavor, setInnerModelLoader } from './js-function/index.js';
import { onnxFlavor } from './onnx/index.js';
import { FlavorRegistry } from './registry.js';
import { tfjsFlavor } from './tfjs/index.js';

export * from './flavor.js';
export * from './registry.js';
export * from './pipeline.js';
export * from './build.js';
export { onnxFlavor } from './onnx/index.js';
export { tfjsFlavor, ensureBackend as ensureTfjsBackend, type TfjsBackendInfo } from './tfjs/index.js';
export * from './js-function/index.js';

/** A registry with the native flavors, in the order they are tried: onnx, tfjs, js_function. */
export function createRegistry(): FlavorRegistry {
  const registry = new FlavorRegistry().register(onnxFlavor).register(tfjsFlavor).register(jsFunctionFlavor);
  setInnerModelLoader((path, opts) => registry.load(path, opts));
  return registry;
}
