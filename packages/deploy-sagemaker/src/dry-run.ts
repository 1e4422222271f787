/**
 * The plan of a dry run as text: one line per mutating call (service, operation, key
 * parameters), with bodies shown by size and secrets masked. `planDeployment` is
 * `deployEndpoint` on a dry-run session: the same code decides what would be called.
 */
import { AwsSession, compactParams, type AwsClients, type PlannedCall } from './clients.js';
import { deployEndpoint, type DeployResult, type EndpointOptions } from './endpoint-deploy.js';
import { redact } from './errors.js';

/** `sagemaker CreateModel {"ModelName":…}` lines. */
export function formatPlan(calls: readonly PlannedCall[], secrets: readonly string[] = []): string[] {
  return calls.map((c) => redact(`${c.service.padEnd(11)} ${c.operation} ${JSON.stringify(compactParams(c.params))}`, secrets));
}

/** What `deployEndpoint` would do: reads are made, mutating calls only planned. */
export async function planDeployment(clients: AwsClients, o: EndpointOptions): Promise<DeployResult> {
  return deployEndpoint(new AwsSession(clients, { dryRun: true }), o);
}
