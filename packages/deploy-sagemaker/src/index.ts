/**
 * @mlmodel/deploy-sagemaker — MLmodel models on Amazon SageMaker through the AWS SDK v3:
 * `buildAndPush` (image to ECR), `deployEndpoint` (create, replace, add; real-time, serverless,
 * async; auto-scaling; no orphans on failure; rollback detection), `applyTraffic`,
 * `endpointStatus`, `listDeployments`, `deleteDeployment`, `invokeEndpoint`, `runTransformJob`,
 * `runLocal` (the image as SageMaker runs it), and `planDeployment` (dry run). Every function
 * takes an `AwsSession` over clients from `createClients` (region, credentials and endpoints from
 * the SDK's chain, or given).
 */
export * from './errors.js';
export { TAG_CREATED_BY, TAG_ENDPOINT, TAG_MODEL_URI, parseS3Uri, s3Uri, tagValue, type ResourceKind, type ResourceRef } from './resources.js';
export {
  AwsSession,
  createClients,
  destroyClients,
  isReadOperation,
  DEFAULT_MAX_ATTEMPTS,
  type AwsClients,
  type AwsConfig,
  type PlannedCall,
  type ServiceName,
  type SessionOptions,
} from './clients.js';
export { checkName, truncateName, uniqueName, defaultBucket, repositoryNameFor, endpointNameFor, MAX_NAME_LENGTH } from './naming.js';
export { createModelArchive, extractModelArchive, type ModelArchive } from './model-archive.js';
export { waitFor, DEFAULT_POLL_INTERVAL_MS, DEFAULT_TIMEOUT_MS, type WaitSettings } from './waiter.js';
export { rollback, removeResource, deleteEndpoint, waitEndpointDeletable, scalableTargetId, SCALABLE_DIMENSION } from './cleanup.js';
export { executionRoleFor, type CallerIdentity } from './setup.js';
export {
  deployEndpoint,
  describeEndpoint,
  nextVariantName,
  DEFAULT_INSTANCE_TYPE,
  type AutoScalingOptions,
  type DeployMode,
  type DeployResult,
  type EndpointOptions,
} from './endpoint-deploy.js';
export { applyTraffic, parseTraffic } from './traffic.js';
export {
  endpointStatus,
  listDeployments,
  deleteDeployment,
  type EndpointStatus,
  type VariantStatus,
  type DeploymentSummary,
  type ListOptions,
  type DeleteResult,
} from './endpoint-admin.js';
export {
  invokeEndpoint,
  invokeEndpointAsync,
  predict,
  REALTIME_MAX_BODY_BYTES,
  SERVERLESS_MAX_BODY_BYTES,
  type InvokeOptions,
  type InvokeResult,
  type AsyncInvokeOptions,
  type AsyncInvokeResult,
  type PredictOptions,
  type PredictResult,
} from './invoke.js';
export { runTransformJob, readS3Object, DEFAULT_TRANSFORM_INSTANCE_TYPE, type TransformOptions, type TransformResult } from './transform-job.js';
export { buildAndPush, decodeAuthorizationToken, type BuildAndPushOptions, type BuildAndPushResult } from './ecr-push.js';
export { runLocal, DEFAULT_READY_TIMEOUT_MS, type LocalContainer, type RunLocalOptions } from './run-local.js';
export { formatPlan, planDeployment } from './dry-run.js';
