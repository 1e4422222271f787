/**
 * Pushing an image to a registry (ECR, ACR, any Docker registry v2) through the engine: check the
 * login first (one line on bad credentials, before any layer moves), tag the local image with the
 * target name, push, and return the digest the registry stored. Credentials go to the engine in
 * the X-Registry-Auth header of each call only: nothing is written to a Docker config file, and no
 * message or error carries them.
 */
import { connectDocker, type Docker } from './docker-engine.js';
import { ImageBuildError, oneLine } from './errors.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** Docker Hub's name when a reference names no registry. */
const DOCKER_HUB = 'docker.io';

/** The parts of `[host[:port]/]repository[:tag]`; registry is null when the first component is not a host. */
export function splitImageReference(ref: string): { registry: string | null; repository: string; tag: string } {
  if (ref.includes('@')) throw new RegistryPushError(`${JSON.stringify(ref)} names a digest: push takes a name with a tag, e.g. host/repo:1`);
  const slash = ref.indexOf('/');
  const first = slash >= 0 ? ref.slice(0, slash) : '';
  // Docker's rule: the first component is a registry when it has a dot or a port, or is localhost
  const isHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = isHost ? first : null;
  const rest = isHost ? ref.slice(slash + 1) : ref;
  const colon = rest.lastIndexOf(':');
  const repository = colon > rest.lastIndexOf('/') && colon >= 0 ? rest.slice(0, colon) : rest;
  const tag = colon > rest.lastIndexOf('/') && colon >= 0 ? rest.slice(colon + 1) : 'latest';
  if (
    (registry !== null && !/^(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::\d+)?$/.test(registry)) ||
    !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository) ||
    !/^[\w][\w.-]{0,127}$/.test(tag)
  ) {
    throw new RegistryPushError(
      `${JSON.stringify(ref)} is not a valid image name: use host[:port]/repository:tag with lowercase letters, digits and . _ - / in the repository`,
    );
  }
  return { registry, repository, tag };
}

/** What the engine reports while pushing. */
export type PushEvent =
  /** `The push refers to repository [...]` and other lines without a layer. */
  | { readonly kind: 'status'; readonly line: string }
  /** A layer's state: Preparing, Waiting, Pushing (with bytes), Pushed, Layer already exists, Mounted from … */
  | { readonly kind: 'layer'; readonly id: string; readonly status: string; readonly current?: number; readonly total?: number }
  /** The manifest the registry stored. */
  | { readonly kind: 'digest'; readonly tag: string; readonly digest: string; readonly size: number }
  | { readonly kind: 'error'; readonly message: string };

interface RawPushMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** Events of one message of the push stream. */
export function pushEventsOf(msg: RawPushMessage): PushEvent[] {
  if (msg.error !== undefined || msg.errorDetail?.message !== undefined) {
    return [{ kind: 'error', message: (msg.errorDetail?.message ?? msg.error ?? 'unknown error').trim() }];
  }
  if (msg.aux?.Digest) return [{ kind: 'digest', tag: msg.aux.Tag ?? '', digest: msg.aux.Digest, size: msg.aux.Size ?? 0 }];
  if (msg.status === undefined) return [];
  if (msg.id !== undefined && !msg.status.startsWith('The push refers')) {
    const { current, total } = msg.progressDetail ?? {};
    return [{ kind: 'layer', id: msg.id, status: msg.status, ...(current !== undefined ? { current } : {}), ...(total !== undefined ? { total } : {}) }];
  }
  return [{ kind: 'status', line: msg.status }];
}

/**
 * Plain lines for logs and pipes: each layer's state changes (not every byte), the digest at the
 * end. Byte progress is summed into one line at most every `intervalMs` (default 2 s).
 */
export function plainPushProgress(write: (line: string) => void, opts: { intervalMs?: number; now?: () => number } = {}): (e: PushEvent) => void {
  const now = opts.now ?? (() => Date.now());
  const interval = opts.intervalMs ?? 2_000;
  const state = new Map<string, string>();
  const bytes = new Map<string, { current: number; total: number }>();
  let lastSummary = now();
  return (e) => {
    // the engine's own `tag: digest: … size: …` line repeats what the digest event says
    if (e.kind === 'status') {
      if (!/: digest: sha256:/.test(e.line)) write(e.line);
    } else if (e.kind === 'error') write(`push failed: ${e.message}`);
    else if (e.kind === 'digest') write(`pushed ${e.tag ? `${e.tag}: ` : ''}${e.digest} (manifest ${e.size} bytes)`);
    else {
      if (e.current !== undefined && e.total !== undefined) bytes.set(e.id, { current: e.current, total: e.total });
      if (state.get(e.id) !== e.status) {
        state.set(e.id, e.status);
        write(`layer ${e.id}: ${e.status}`);
      } else if (e.status === 'Pushing' && now() - lastSummary >= interval) {
        lastSummary = now();
        let current = 0;
        let total = 0;
        for (const b of bytes.values()) {
          current += b.current;
          total += b.total;
        }
        write(`pushing: ${(current / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`);
      }
    }
  };
}

/** The login was refused (or the registry does not answer the login). */
export class RegistryAuthError extends ImageBuildError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'UNAUTHENTICATED', options);
  }
}

/** The push itself failed; the message carries the daemon's. */
export class RegistryPushError extends ImageBuildError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'INTERNAL_ERROR', options);
  }
}

export interface PushImageOptions {
  /** The local image: name:tag or id. */
  readonly image: string;
  /** host[:port]/repository:tag */
  readonly target: string;
  /** None for a registry that takes anonymous pushes. */
  readonly credentials?: RegistryCredentials;
  readonly onEvent?: (e: PushEvent) => void;
  readonly onStatus?: (line: string) => void;
  /** An engine client (default: connectDocker()). */
  readonly docker?: Docker;
  readonly signal?: AbortSignal;
}

export interface PushedImage {
  /** host/repository:tag as pushed */
  readonly target: string;
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
  /** sha256:… of the manifest the registry stored: `registry/repository@digest` pulls exactly this image. */
  readonly digest: string;
  readonly durationMs: number;
}

/** The daemon's message of a failed engine call. */
function daemonMessage(e: unknown): string {
  const json = (e as { json?: { message?: string } | string }).json;
  const msg = typeof json === 'object' && json?.message ? json.message : (e as Error).message;
  return oneLine(String(msg ?? e));
}

/** Credentials the engine checks at the registry (`docker login` without storing anything). */
export async function checkRegistryLogin(docker: Docker, registry: string, credentials: RegistryCredentials): Promise<void> {
  if (credentials.username === '' || credentials.password === '') {
    throw new RegistryAuthError(`the credentials for ${registry} are empty: the registry login needs a user name and a password or token`);
  }
  try {
    await docker.checkAuth({ username: credentials.username, password: credentials.password, serveraddress: registry });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    const why = daemonMessage(e).split(credentials.password).join('***');
    if (status === 401 || /unauthorized|authentication required|denied/i.test(why)) {
      throw new RegistryAuthError(`the registry ${registry} refused the login of ${credentials.username}: ${why}`, { cause: e });
    }
    throw new RegistryAuthError(`could not log in to the registry ${registry} as ${credentials.username}: ${why}`, { cause: e });
  }
}

/**
 * Tag `image` as `target` and push it. Checks the login first when credentials are given; a
 * refused login is a RegistryAuthError, a failed push a RegistryPushError with the daemon's
 * message. Returns the digest the registry reported.
 */
export async function pushImage(opts: PushImageOptions): Promise<PushedImage> {
  const started = performance.now();
  const { registry, repository, tag } = splitImageReference(opts.target);
  const host = registry ?? DOCKER_HUB;
  const status = opts.onStatus ?? (() => undefined);
  const docker = opts.docker ?? (await connectDocker());
  try {
    await docker.getImage(opts.image).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) {
      throw new RegistryPushError(`the Docker engine has no image ${opts.image} to push: build it first (mlmodel build-docker)`);
    }
    throw new RegistryPushError(`could not read the image ${opts.image}: ${daemonMessage(e)}`, { cause: e });
  }
  if (opts.credentials) {
    status(`logging in to ${host} as ${opts.credentials.username}`);
    await checkRegistryLogin(docker, host, opts.credentials);
  }
  const name = registry ? `${registry}/${repository}` : repository;
  try {
    await docker.getImage(opts.image).tag({ repo: name, tag });
  } catch (e) {
    throw new RegistryPushError(`could not tag ${opts.image} as ${name}:${tag}: ${daemonMessage(e)}`, { cause: e });
  }
  status(`pushing ${name}:${tag}`);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.getImage(name).push({
      tag,
      ...(opts.credentials ? { authconfig: { username: opts.credentials.username, password: opts.credentials.password, serveraddress: host } } : {}),
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    });
  } catch (e) {
    throw new RegistryPushError(`the Docker engine refused to push ${name}:${tag}: ${daemonMessage(e)}`, { cause: e });
  }
  let digest: string | undefined;
  let failure: string | undefined;
  await new Promise<void>((resolve, reject) => {
    let pending = '';
    const handle = (line: string): void => {
      if (line.trim() === '') return;
      let msg: RawPushMessage;
      try {
        msg = JSON.parse(line) as RawPushMessage;
      } catch {
        return;
      }
      for (const e of pushEventsOf(msg)) {
        if (e.kind === 'digest') digest = e.digest;
        else if (e.kind === 'error') failure ??= e.message;
        opts.onEvent?.(e);
      }
    };
    stream.on('data', (d: Buffer) => {
      pending += d.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(handle);
    });
    stream.on('end', () => {
      handle(pending);
      resolve();
    });
    stream.on('error', reject);
  });
  if (failure !== undefined) {
    const why = opts.credentials ? failure.split(opts.credentials.password).join('***') : failure;
    if (/unauthorized|authentication required|denied|no basic auth credentials/i.test(why)) {
      throw new RegistryAuthError(`the registry ${host} refused the push of ${repository}:${tag}: ${oneLine(why)}`);
    }
    throw new RegistryPushError(`pushing ${name}:${tag} failed: ${oneLine(why)}`);
  }
  if (digest === undefined) throw new RegistryPushError(`the Docker engine ended the push of ${name}:${tag} without reporting a digest`);
  return { target: `${name}:${tag}`, registry: host, repository, tag, digest, durationMs: performance.now() - started };
}
