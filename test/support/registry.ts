/**
 * The real image registry of the push tests: Debian's docker-registry with htpasswd auth, started
 * by scripts/registry-setup.sh (the test command runs it), standing in for ECR and ACR. Its
 * address and users are in $MLMODEL_REGISTRY_DIR/credentials.json. There is no skipping: a
 * registry that does not answer fails the tests with what to run.
 */
import { readFileSync } from 'node:fs';

/** ECR's registry user (its authorization token decodes to AWS:<password>). */
export const ECR_USER = 'AWS';
/** ACR's user for a refresh token from the AAD exchange. */
export const ACR_TOKEN_USER = '00000000-0000-0000-0000-000000000000';

export interface RegistryUser {
  readonly username: string;
  readonly password: string;
}

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:5001 */
  readonly address: string;
  credentialsFor(username: string): RegistryUser;
}

const DIR = process.env.MLMODEL_REGISTRY_DIR ?? '/var/lib/mlmodel-registry';
const HOW = 'run scripts/registry-setup.sh as root (the test command does)';

/** The registry's address and users; throws (never skips) when it is not set up or does not answer with 401. */
export async function testRegistry(): Promise<TestRegistry> {
  let parsed: { address: string; users: RegistryUser[] };
  try {
    parsed = JSON.parse(readFileSync(`${DIR}/credentials.json`, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new Error(`no test registry credentials at ${DIR}/credentials.json (${(e as Error).message}): ${HOW}`, { cause: e });
  }
  let status: number;
  try {
    status = (await fetch(`http://${parsed.address}/v2/`, { signal: AbortSignal.timeout(5_000) })).status;
  } catch (e) {
    throw new Error(`the test registry at ${parsed.address} does not answer (${(e as Error).message}): ${HOW}`, { cause: e });
  }
  if (status !== 401) throw new Error(`the test registry at ${parsed.address} answered ${status} without credentials (expected 401): ${HOW}`);
  return {
    address: parsed.address,
    credentialsFor(username) {
      const u = parsed.users.find((x) => x.username === username);
      if (!u) throw new Error(`the test registry has no user ${username}: ${HOW}`);
      return u;
    },
  };
}

function basic(user: RegistryUser): string {
  return `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
}

/** The tags of a repository, read through the registry's v2 API ([] when it has none). */
export async function registryTags(registry: TestRegistry, repository: string, user: RegistryUser): Promise<string[]> {
  const res = await fetch(`http://${registry.address}/v2/${repository}/tags/list`, { headers: { authorization: basic(user) } });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`GET /v2/${repository}/tags/list: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { tags: string[] | null };
  return body.tags ?? [];
}

/** The manifest digest of repository:tag as the registry stores it, or null when it has no such tag. */
export async function registryDigest(registry: TestRegistry, repository: string, tag: string, user: RegistryUser): Promise<string | null> {
  const res = await fetch(`http://${registry.address}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: basic(user),
      accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`HEAD /v2/${repository}/manifests/${tag}: ${res.status}`);
  return res.headers.get('docker-content-digest');
}
