export { kubernetesManifests, inferenceService, KSERVE_NAME_MAX, K8S_NAME_MAX, type K8sOptions, type Manifest } from './manifests.js';
export { manifestsYaml } from './render.js';
export { cpuQuantity, memoryQuantity, nameFrom, checkName } from './quantities.js';
