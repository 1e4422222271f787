/**
 * The environment version of a custom-container deployment: our image plus the inference config
 * Azure ML needs for it (liveness and readiness on /ping, scoring on /invocations, port 8080 —
 * what `mlmodel serve` answers in the image).
 */
import { CONTAINER_PORT } from '@mlmodel/image-builder';
import { isNotFound } from './errors.js';
import { CREATED_TAG, serviceError } from './model-asset.js';
import type { Workspace } from './workspace-client.js';

export interface InferenceRoutes {
  readonly port: number;
  readonly livenessPath: string;
  readonly readinessPath: string;
  readonly scoringPath: string;
}

export const DEFAULT_ROUTES: InferenceRoutes = { port: CONTAINER_PORT, livenessPath: '/ping', readinessPath: '/ping', scoringPath: '/invocations' };

/** The environment body's `inferenceConfig`. */
export function inferenceConfig(r: InferenceRoutes = DEFAULT_ROUTES): {
  livenessRoute: { port: number; path: string };
  readinessRoute: { port: number; path: string };
  scoringRoute: { port: number; path: string };
} {
  return {
    livenessRoute: { port: r.port, path: r.livenessPath },
    readinessRoute: { port: r.port, path: r.readinessPath },
    scoringRoute: { port: r.port, path: r.scoringPath },
  };
}

export interface RegisteredEnvironment {
  readonly name: string;
  readonly version: string;
  readonly id: string;
  readonly image: string;
}

export async function createEnvironmentVersion(
  ws: Workspace,
  o: { name: string; version: string; image: string; routes?: InferenceRoutes; description?: string },
): Promise<RegisteredEnvironment> {
  try {
    const r = await ws.client.environmentVersions.createOrUpdate(ws.resourceGroup, ws.name, o.name, o.version, {
      properties: {
        image: o.image,
        osType: 'Linux',
        inferenceConfig: inferenceConfig(o.routes),
        description: o.description ?? 'mlmodel serve image (model baked in at /opt/ml/model)',
        tags: { [CREATED_TAG]: 'true' },
      },
    });
    return { name: o.name, version: o.version, id: r.id ?? `${ws.id}/environments/${o.name}/versions/${o.version}`, image: o.image };
  } catch (e) {
    throw serviceError(`creating environment ${o.name} version ${o.version} failed`, e);
  }
}

export async function deleteEnvironmentVersion(ws: Workspace, name: string, version: string): Promise<void> {
  try {
    await ws.client.environmentVersions.delete(ws.resourceGroup, ws.name, name, version);
  } catch (e) {
    if (!isNotFound(e)) throw serviceError(`deleting environment ${name} version ${version} failed`, e);
  }
}
