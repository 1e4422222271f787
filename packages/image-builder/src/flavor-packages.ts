/**
 * The flavors an image can serve and the npm packages only one of them loads. `@mlmodel/flavors`
 * imports these lazily (on the first model of that flavor), so an image leaves out those of the
 * flavors it does not serve: no tfjs in an ONNX image, no onnxruntime in a tfjs one.
 */
import { ImageBuildError } from './errors.js';

export const IMAGE_FLAVORS = ['onnx', 'tfjs', 'js_function', 'python_function'] as const;
export type ImageFlavor = (typeof IMAGE_FLAVORS)[number];

/** Packages (dependencies of @mlmodel/flavors) that only one flavor loads. */
export const FLAVOR_ONLY_PACKAGES: Readonly<Record<ImageFlavor, readonly string[]>> = {
  onnx: ['onnxruntime-node'],
  tfjs: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'],
  js_function: [],
  python_function: [],
};

/**
 * Workspace packages the image never needs: the image builder itself (with dockerode) and the
 * cloud deploy commands (with the AWS and Azure SDKs); the CLI loads them only when those
 * commands run, never for `serve`.
 */
export const BUILD_TIME_ONLY_PACKAGES: readonly string[] = ['@mlmodel/image-builder', '@mlmodel/deploy-sagemaker', '@mlmodel/deploy-azureml'];

export function isImageFlavor(name: string): name is ImageFlavor {
  return (IMAGE_FLAVORS as readonly string[]).includes(name);
}

/** `--flavors onnx,python_function`: checked, deduplicated, in the registry's order. */
export function parseFlavorList(value: string): ImageFlavor[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new ImageBuildError(`--flavors needs at least one of ${IMAGE_FLAVORS.join(', ')}`);
  for (const n of names) {
    if (!isImageFlavor(n)) throw new ImageBuildError(`--flavors: unknown flavor '${n}'; an image can serve ${IMAGE_FLAVORS.join(', ')}`);
  }
  return IMAGE_FLAVORS.filter((f) => names.includes(f));
}

/** Packages to leave out of an image serving `flavors`. */
export function excludedPackages(flavors: readonly ImageFlavor[]): Set<string> {
  const out = new Set<string>(BUILD_TIME_ONLY_PACKAGES);
  for (const f of IMAGE_FLAVORS) if (!flavors.includes(f)) for (const p of FLAVOR_ONLY_PACKAGES[f]) out.add(p);
  return out;
}
