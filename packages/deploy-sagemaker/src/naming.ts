/**
 * SageMaker names: endpoints, models, configs and jobs are `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`.
 * Generated names follow MLflow (`<app>-model-<20 hex>`, middle-truncated with `---` to 63
 * characters), so they are unique per deploy and still say which endpoint they belong to.
 */
import { randomBytes } from 'node:crypto';
import { SageMakerDeployError } from './errors.js';

export const MAX_NAME_LENGTH = 63;
const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export function checkName(name: string, what: string): string {
  if (!NAME.test(name)) {
    throw new SageMakerDeployError(
      `${what} ${JSON.stringify(name)} is not a valid SageMaker name: 1-63 letters, digits and hyphens, starting and ending with a letter or digit`,
    );
  }
  return name;
}

/** MLflow's `_truncate_name`: keep both ends, join them with `---`. */
export function truncateName(name: string, max = MAX_NAME_LENGTH): string {
  if (name.length <= max) return name;
  const keep = max - 3;
  const head = Math.ceil(keep / 2);
  return `${name.slice(0, head)}---${name.slice(name.length - (keep - head))}`;
}

/** `<app>-<kind>-<20 hex>`, at most 63 characters. */
export function uniqueName(app: string, kind: string, random: () => string = () => randomBytes(10).toString('hex')): string {
  return truncateName(`${app}-${kind}-${random()}`);
}

/** The bucket used when none is given: one per region and account, as MLflow does. */
export function defaultBucket(region: string, account: string): string {
  return `mlmodel-sagemaker-${region}-${account}`;
}

/** Where a deployment's model archive goes in the bucket. */
export function modelArchiveKey(prefix: string, modelName: string): string {
  return `${prefix}/${modelName}/model.tar.gz`;
}

/** A repository name ECR accepts, from a model directory's name. */
export function repositoryNameFor(modelDirName: string): string {
  const cleaned = modelDirName
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `mlmodel-${cleaned || 'model'}`.slice(0, 200);
}

/** An endpoint name from a model directory's name (when none is given). */
export function endpointNameFor(modelDirName: string): string {
  const cleaned = modelDirName
    .replace(/[^a-zA-Z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_NAME_LENGTH);
  return cleaned || 'mlmodel';
}
