/**
 * @mlmodel/image-builder — container images and Kubernetes manifests for mlmodel models:
 * `buildImage` (through dockerode), `writeBuildContext` (a self-contained Dockerfile context),
 * `kubernetesManifests` / `inferenceService` (Deployment + Service + HPA, or a KServe
 * InferenceService), `pushImage` (log in, tag, push to ECR, ACR or any v2 registry), and the
 * progress views of a build and a push.
 */
export * from './errors.js';
export { IMAGE_FLAVORS, FLAVOR_ONLY_PACKAGES, parseFlavorList, isImageFlavor, type ImageFlavor } from './flavor-packages.js';
export { planRuntime, installationRoot, type RuntimePlan, type RuntimePackage } from './runtime-files.js';
export type { TargetPlatform } from './prune-rules.js';
export { checkModelForImage, type ModelForImage, type PythonNeeds } from './model-check.js';
export { renderDockerfile, DEFAULT_BASE_IMAGE, CONTAINER_UID, SAGEMAKER_PORT_LABEL, type EnvManager, type DockerfileSpec } from './dockerfile.js';
export { writeBuildContext, resolveImageContents, type BuildContext, type ContextOptions } from './build-context.js';
export { buildImage, normalizeTag, parsePlatform, type BuildImageOptions, type BuiltImage } from './build-image.js';
export { connectDocker, dockerAddress, imageFacts, type Docker } from './docker-engine.js';
export { BuildStreamParser, eventsOf, plainProgress, liveProgress, type BuildEvent, type ProgressView, type Terminal } from './build-progress.js';
export { CONTAINER_MODEL_DIR, CONTAINER_PORT, DEFAULT_DRAIN_TIMEOUT_S, ENV_OPTIONS, containerCommand, serveArgs } from './container/serve-args.js';
export * from './k8s/index.js';
export {
  pushImage,
  checkRegistryLogin,
  splitImageReference,
  pushEventsOf,
  plainPushProgress,
  RegistryAuthError,
  RegistryPushError,
  type PushImageOptions,
  type PushedImage,
  type PushEvent,
  type RegistryCredentials,
} from './registry-push.js';
