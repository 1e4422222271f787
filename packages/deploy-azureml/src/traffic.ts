/**
 * Blue/green traffic: parsing `blue=90,green=10`, checking it (whole percentages 0–100 that add
 * up to 100, deployments the endpoint has) and PUTting the endpoint with the new map. Deployments
 * left out of the map get 0%.
 *
 * Mirrored (shadow) traffic, `green=10`: a copy of that share of the live requests goes to the
 * deployment and its answers are dropped. Azure's rules (how-to-safely-rollout-online-endpoints):
 * one deployment at most, 50% at most, and a deployment takes live or mirrored traffic, not both.
 */
import { AzureMlError } from './errors.js';
import { putEndpointTraffic, requireEndpoint, endpointInfo, type EndpointInfo } from './online-endpoint.js';
import { listDeployments } from './online-deployment.js';
import type { Workspace } from './workspace-client.js';

export type TrafficMap = Readonly<Record<string, number>>;

/** `blue=90,green=10` → { blue: 90, green: 10 }. */
export function parseTraffic(text: string, flag = '--traffic'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((s) => s.trim())) {
    if (part === '') continue;
    const m = /^([a-zA-Z][a-zA-Z0-9-]*)\s*=\s*(\d{1,3})%?$/.exec(part);
    if (!m)
      throw new AzureMlError(
        `${flag} ${JSON.stringify(text)}: ${JSON.stringify(part)} is not DEPLOYMENT=PERCENT (e.g. ${flag === '--mirror' ? 'green=10' : 'blue=90,green=10'})`,
      );
    if (m[1]! in out) throw new AzureMlError(`${flag} names deployment ${m[1]} twice`);
    out[m[1]!] = Number(m[2]);
  }
  if (Object.keys(out).length === 0)
    throw new AzureMlError(`${flag} is empty: give DEPLOYMENT=PERCENT pairs, e.g. ${flag === '--mirror' ? 'green=10' : 'blue=90,green=10'}`);
  return out;
}

/** Azure's cap on mirrored traffic (the sum over deployments). */
export const MAX_MIRROR_PERCENT = 50;

/** `green=10` → { green: 10 }; `none` (or `green=0`) → no mirroring. */
export function parseMirror(text: string): Record<string, number> {
  return /^\s*(none|off)\s*$/i.test(text) ? {} : parseTraffic(text, '--mirror');
}

/**
 * The mirror map as Azure accepts it (only non-zero entries), checked against the live traffic it
 * will sit next to: known deployments, whole percentages, one deployment, at most 50% in all, and
 * never a deployment that takes live traffic.
 */
export function checkMirror(mirror: TrafficMap, known: readonly string[], live: TrafficMap, endpoint: string): Record<string, number> {
  const unknown = Object.keys(mirror).filter((d) => !known.includes(d));
  if (unknown.length > 0) {
    throw new AzureMlError(
      `endpoint ${endpoint} has no deployment ${unknown.join(', ')} (it has ${known.length > 0 ? known.join(', ') : 'none'}): traffic can only be mirrored to an existing deployment`,
    );
  }
  for (const [d, p] of Object.entries(mirror)) {
    if (!Number.isInteger(p) || p < 0 || p > MAX_MIRROR_PERCENT)
      throw new AzureMlError(`mirrored traffic for ${d} must be a whole percentage 0–${MAX_MIRROR_PERCENT}, not ${p}`);
  }
  const out = Object.fromEntries(Object.entries(mirror).filter(([, p]) => p > 0));
  const targets = Object.keys(out);
  if (targets.length > 1) throw new AzureMlError(`traffic can be mirrored to one deployment only, not ${targets.join(' and ')} (Azure's limit)`);
  const sum = Object.values(out).reduce((a, b) => a + b, 0);
  if (sum > MAX_MIRROR_PERCENT) throw new AzureMlError(`at most ${MAX_MIRROR_PERCENT}% of the traffic can be mirrored, not ${sum}% (Azure's limit)`);
  for (const d of targets) {
    if ((live[d] ?? 0) > 0) {
      throw new AzureMlError(
        `deployment ${d} takes ${live[d]}% of the live traffic, so it cannot also get mirrored traffic: a deployment takes live or mirrored traffic, not both`,
      );
    }
  }
  return out;
}

/** When a traffic change gives live traffic to the current mirror target: the error that says how to do it in one step. */
export function checkLiveVsMirror(live: TrafficMap, mirror: TrafficMap, endpoint: string): void {
  for (const [d, p] of Object.entries(mirror)) {
    if (p > 0 && (live[d] ?? 0) > 0) {
      throw new AzureMlError(
        `deployment ${d} receives ${p}% mirrored traffic on endpoint ${endpoint}; a deployment takes live or mirrored traffic, not both: add --mirror none (stop mirroring) to give it live traffic`,
      );
    }
  }
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

/**
 * Set the endpoint's live traffic and/or its mirrored traffic (checked against its deployments and
 * Azure's rules) in one PUT, and return the endpoint as it is afterwards. What is not given is kept.
 */
export async function setTraffic(ws: Workspace, endpoint: string, traffic: TrafficMap | undefined, mirror?: TrafficMap): Promise<EndpointInfo> {
  if (traffic === undefined && mirror === undefined) throw new AzureMlError('give --traffic, --mirror or both');
  const e = await requireEndpoint(ws, endpoint);
  const known = (await listDeployments(ws, endpoint)).map((d) => d.name ?? '');
  const live = traffic !== undefined ? checkTraffic(traffic, known, endpoint) : { ...(e.properties.traffic ?? {}) };
  const currentMirror = e.properties.mirrorTraffic ?? {};
  let mirrored: Record<string, number> | undefined;
  if (mirror !== undefined) mirrored = checkMirror(mirror, known, live, endpoint);
  else checkLiveVsMirror(live, currentMirror, endpoint);
  ws.status(
    `setting traffic of endpoint ${endpoint}: ${formatTraffic(live)}${mirrored !== undefined ? `, mirror ${formatTraffic(mirrored)}` : ''} (was ${formatTraffic(e.properties.traffic ?? {})}${Object.keys(currentMirror).length > 0 ? `, mirror ${formatTraffic(currentMirror)}` : ''})`,
  );
  return endpointInfo(await putEndpointTraffic(ws, endpoint, live, mirrored));
}

/** The map without `removed` (mirror maps: its entry just goes). */
export function mirrorWithout(mirror: TrafficMap, removed: string): Record<string, number> {
  return Object.fromEntries(Object.entries(mirror).filter(([d, p]) => d !== removed && p > 0));
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
