export { tfjsFlavor, readTfjsConfig, TFJS_FLAVOR_NAME, TFJS_MODEL_SUBDIR, type TfjsSaveInput, type TfjsFlavorConfig } from './flavor.js';
export { diskLoadHandler, diskSaveHandler } from './disk-io.js';
export { ensureBackend, TFJS_BACKENDS, type TfjsBackendName, type TfjsBackendInfo } from './backend.js';
export { TfjsBackendError, TfjsInputError, TfjsModelFileError } from './errors.js';
export type { TfjsModelType } from './model-json.js';
