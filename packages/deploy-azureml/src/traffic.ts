/**
 * Blue/green traffic: parsing `blue=90,green=10`, checking it (whole percentages 0–100 that add
 * up to 100, deployments the endpoint has) and PUTting the endpoint with the new map. Deployments
 * left out of the map get 0%.
 */
import { AzureMlError } from './errors.js';
import { putEndpointTraffic, requireEndpoint, endpointInfo, type EndpointInfo } from './online-endpoint.js';
import { listDeployments } from './online-deployment.js';
import type { Workspace } from './workspace-client.js';

export type TrafficMap = Readonly<Record<string, number>>;

/** `blue=90,green=10` → { blue: 90, green: 10 }. */
export function parseTraffic(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((s) => s.trim())) {
    if (part === '') continue;
    const m = /^([a-zA-Z][a-zA-Z0-9-]*)\s*=\s*(\d{1,3})%?$/.exec(part);
    if (!m) throw new AzureMlError(`--traffic ${JSON.stringify(text)}: ${JSON.stringify(part)} is not DEPLOYMENT=PERCENT (e.g. blue=90,green=10)`);
    if (m[1]! in out) throw new AzureMlError(`--traffic names deployment ${m[1]} twice`);
    out[m[1]!] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new AzureMlError('--traffic is empty: give DEPLOYMENT=PERCENT pairs, e.g. blue=90,green=10');
  return out;
}

/** The full map for the endpoint: every deployment in `known` (0 when not named); throws on unknown names or a sum other than 100. */
export function checkTraffic(traffic: TrafficMap, known: readonly string[], endpoint: string): Record<string, number> {
  const unknown = Object.keys(traffic).filter((d) => !known.includes(d));
  if (unknown.length > 0) {
    throw new AzureMlError(
      `endpoint ${endpoint} has no deployment ${unknown.join(', ')} (it has ${known.length > 0 ? known.join(', ') : 'none'}): traffic can only go to existing deployments`,
    );
  }
  for (const [d, p] of Object.entries(traffic)) {
    if (!Number.isInteger(p) || p < 0 || p > 100) throw new AzureMlError(`traffic for ${d} must be a whole percentage 0–100, not ${p}`);
  }
  const sum = Object.values(traffic).reduce((a, b) => a + b, 0);
  if (sum !== 100) throw new AzureMlError(`traffic percentages must add up to 100, these add up to ${sum} (${formatTraffic(traffic)})`);
  const full: Record<string, number> = {};
  for (const d of known) full[d] = traffic[d] ?? 0;
  return full;
}

export function formatTraffic(t: TrafficMap): string {
  const entries = Object.entries(t);
  return entries.length === 0 ? '(none)' : entries.map(([d, p]) => `${d}=${p}`).join(',');
}

/** Set the endpoint's traffic (checked against its deployments) and return the endpoint as it is afterwards. */
export async function setTraffic(ws: Workspace, endpoint: string, traffic: TrafficMap): Promise<EndpointInfo> {
  const e = await requireEndpoint(ws, endpoint);
  const known = (await listDeployments(ws, endpoint)).map((d) => d.name ?? '');
  const full = checkTraffic(traffic, known, endpoint);
  ws.status(`setting traffic of endpoint ${endpoint}: ${formatTraffic(full)} (was ${formatTraffic(e.properties.traffic ?? {})})`);
  return endpointInfo(await putEndpointTraffic(ws, e, full));
}

/** The traffic map without `removed`, its share spread over the others in proportion (all of it to the largest; 0 everywhere if none had any). */
export function trafficWithout(traffic: TrafficMap, removed: string): Record<string, number> {
  const rest = Object.entries(traffic).filter(([d]) => d !== removed);
  const restSum = rest.reduce((a, [, p]) => a + p, 0);
  const out: Record<string, number> = {};
  if (restSum === 0) {
    for (const [d] of rest) out[d] = 0;
    return out;
  }
  let given = 0;
  for (const [d, p] of rest) {
    out[d] = Math.floor((p * 100) / restSum);
    given += out[d];
  }
  const largest = rest.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  out[largest]! += 100 - given;
  return out;
}
