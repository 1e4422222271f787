/**
 * @mlmodel/deploy-azureml — deploy mlmodel images to Azure ML managed online endpoints with
 * @azure/arm-machinelearning (api-version 2024-04-01 by default): push to ACR, register the model
 * and an environment, create or update endpoints and deployments as long-running operations with
 * progress and a timeout, blue/green traffic, delete, status, logs and scoring. `--dry-run`
 * planning without any call. Every host, api-version and credential is injectable.
 */
export * from './errors.js';
export {
  connectWorkspace,
  defaultCredential,
  workspaceFacts,
  armRequest,
  armCall,
  armErrorOf,
  type ArmResponse,
  DEFAULT_API_VERSION,
  DEFAULT_ARM_HOST,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  ACR_API_VERSION,
  type AzureMlConfig,
  type Workspace,
  type WorkspaceFacts,
} from './workspace-client.js';
export { followOperation, armOperation, type FollowOptions, type Operation } from './lro.js';
export {
  pushToAcr,
  resolveRegistry,
  acrCredentials,
  ACR_TOKEN_USER,
  type AcrAuth,
  type AcrRegistry,
  type AcrPush,
  type PushToAcrOptions,
} from './acr-login.js';
export {
  uploadModel,
  registerModelVersion,
  deleteModelVersion,
  nextVersion,
  flavorsOf,
  CREATED_TAG,
  DEFAULT_DATASTORE,
  type RegisteredModel,
  type UploadedModel,
} from './model-asset.js';
export {
  createEnvironmentVersion,
  deleteEnvironmentVersion,
  inferenceConfig,
  DEFAULT_ROUTES,
  type InferenceRoutes,
  type RegisteredEnvironment,
} from './environment-asset.js';
export {
  getEndpoint,
  listEndpoints,
  endpointCredential,
  endpointInfo,
  putEndpointTraffic,
  type AuthMode,
  type EndpointInfo,
  type OnlineEndpointWire,
} from './online-endpoint.js';
export {
  deploymentBody,
  deploymentLogs,
  getDeployment,
  listDeployments,
  isoDuration,
  DEFAULT_PROBE,
  DEFAULT_INSTANCE_TYPE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type DeploymentSettings,
  type ProbeOptions,
  type LogContainer,
} from './online-deployment.js';
export {
  parseTraffic,
  parseMirror,
  checkTraffic,
  checkMirror,
  checkLiveVsMirror,
  setTraffic,
  formatTraffic,
  trafficWithout,
  mirrorWithout,
  MAX_MIRROR_PERCENT,
  type TrafficMap,
} from './traffic.js';
export { invokeEndpoint, type InvokeOptions, type InvokeResult } from './scoring.js';
export {
  deployOnlineEndpoint,
  deleteDeployment,
  deleteEndpoint,
  endpointStatus,
  deploymentInfo,
  assetName,
  type DeployOptions,
  type DeployResult,
  type DeploymentInfo,
  type DeleteResult,
  type EndpointStatus,
} from './deploy.js';
export { planDeployment, planTraffic, planDelete, formatPlan, type Plan, type PlannedCall, type PlanDeploymentOptions } from './dry-run.js';
