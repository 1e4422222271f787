/**
 * Traffic between production variants: `--traffic v1=90,v2=10` parsed and checked, then
 * UpdateEndpointWeightsAndCapacities and a wait until the endpoint is InService again. Variants
 * not named keep their current weight.
 */
import { UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import type { AwsSession } from './clients.js';
import { DeploymentFailedError, SageMakerDeployError } from './errors.js';
import { describeEndpoint, waitEndpointSettled } from './endpoint-deploy.js';
import type { WaitSettings } from './waiter.js';

/** `v1=90,v2=10` → { v1: 90, v2: 10 }: non-negative numbers, each variant once, not all zero. */
export function parseTraffic(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new SageMakerDeployError(`--traffic must be variant=weight pairs like v1=90,v2=10, got ${JSON.stringify(part)}`);
    if (m[1]! in out) throw new SageMakerDeployError(`--traffic names variant ${m[1]} twice`);
    out[m[1]!] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new SageMakerDeployError('--traffic is empty: give variant=weight pairs like v1=90,v2=10');
  return out;
}

/** Set the weights; returns the endpoint's weights afterwards. */
export async function applyTraffic(
  session: AwsSession,
  endpoint: string,
  weights: Readonly<Record<string, number>>,
  wait: WaitSettings,
  onStatus?: (l: string) => void,
): Promise<Record<string, number>> {
  const d = await describeEndpoint(session, endpoint);
  if (!d && !session.dryRun) throw new SageMakerDeployError(`endpoint ${endpoint} does not exist`);
  const variants = (d?.ProductionVariants ?? []).map((v) => v.VariantName!);
  if (d) {
    if (d.EndpointStatus !== 'InService')
      throw new SageMakerDeployError(`endpoint ${endpoint} is ${d.EndpointStatus}: traffic can be shifted only when InService`);
    for (const v of Object.keys(weights))
      if (!variants.includes(v)) throw new SageMakerDeployError(`endpoint ${endpoint} has no variant ${v} (it has ${variants.join(', ')})`);
    const after = (d.ProductionVariants ?? []).map((v) => weights[v.VariantName!] ?? v.CurrentWeight ?? 0);
    if (after.every((w) => w === 0)) throw new SageMakerDeployError('--traffic would give every variant weight 0: at least one must get traffic');
  }
  onStatus?.(
    `shifting traffic on ${endpoint}: ${Object.entries(weights)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  await session.send(
    'sagemaker',
    new UpdateEndpointWeightsAndCapacitiesCommand({
      EndpointName: endpoint,
      DesiredWeightsAndCapacities: Object.entries(weights).map(([VariantName, DesiredWeight]) => ({ VariantName, DesiredWeight })),
    }),
  );
  if (session.dryRun) return { ...weights };
  const final = await waitEndpointSettled(session, endpoint, `shifting traffic on ${endpoint}`, wait, onStatus);
  if (final.EndpointStatus !== 'InService') {
    throw new DeploymentFailedError(`endpoint ${endpoint} ended ${final.EndpointStatus} after the traffic shift: ${final.FailureReason ?? 'no reason given'}`, {
      endpointName: endpoint,
      failureReason: final.FailureReason ?? null,
    });
  }
  return Object.fromEntries((final.ProductionVariants ?? []).map((v) => [v.VariantName!, v.CurrentWeight ?? 0]));
}
