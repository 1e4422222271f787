/**
 * onnxruntime-node, imported on first use so that loading `@mlmodel/flavors` does not load the
 * 46 MB native library for models that are not ONNX.
 */
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

let pending: Promise<OrtModule> | undefined;

export function loadOrt(): Promise<OrtModule> {
  pending ??= import('onnxruntime-node').then((m) => (m as unknown as { default?: OrtModule }).default ?? (m as unknown as OrtModule));
  return pending;
}

/** The onnxruntime-node version (also the `onnxruntime` Python release a saved model pins). */
export function ortVersion(ort: OrtModule): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

/** Execution providers this onnxruntime-node build ships (CPU always; CUDA/TensorRT need extra libraries). */
export function availableProviders(ort: OrtModule): string[] {
  return ort
    .listSupportedBackends()
    .filter((b) => b.bundled)
    .map((b) => b.name);
}
