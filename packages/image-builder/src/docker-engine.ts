/**
 * The Docker engine through dockerode: the address from $DOCKER_HOST (default
 * /var/run/docker.sock), a ping that turns "nobody there" into one line saying how to start an
 * engine, builds streamed as events, image facts. dockerode is imported on first use so that
 * `mlmodel` starts without it.
 */
import type Dockerode from 'dockerode';
import { DockerBuildError, DockerUnavailableError, oneLine } from './errors.js';
import { BuildStreamParser, type BuildEvent } from './build-progress.js';

export type Docker = Dockerode;

/** Where the client connects: $DOCKER_HOST as given, else the default socket. */
export function dockerAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST && env.DOCKER_HOST.trim() !== '' ? env.DOCKER_HOST.trim() : 'unix:///var/run/docker.sock';
}

const HOW_TO_START =
  'start one (systemctl start docker; or as root: dockerd &, e.g. scripts/docker-setup.sh in the mlmodel repository) or point DOCKER_HOST at a running engine';

/** One line for a failed connection. */
export function unavailableMessage(address: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return `no permission to use the Docker engine at ${address}: run as a member of the docker group (or root), or point DOCKER_HOST at an engine you may use`;
  }
  const why = code === 'ENOENT' ? 'no socket there' : code === 'ECONNREFUSED' ? 'connection refused' : code ? code : oneLine((e as Error).message ?? String(e));
  return `no Docker engine answers at ${address} (${why}): ${HOW_TO_START}`;
}

/** A connected client (pinged), or DockerUnavailableError. */
export async function connectDocker(env: NodeJS.ProcessEnv = process.env): Promise<Docker> {
  const address = dockerAddress(env);
  const { default: DockerClient } = await import('dockerode');
  let docker: Docker;
  try {
    docker = new DockerClient();
  } catch (e) {
    throw new DockerUnavailableError(`DOCKER_HOST=${address} is not an address the Docker client understands: ${oneLine((e as Error).message)}`, { cause: e });
  }
  try {
    // dockerode's ping takes an abort signal; its type declarations do not say so
    const ping = docker.ping.bind(docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
    await ping({ abortSignal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new DockerUnavailableError(unavailableMessage(address, e), { cause: e });
  }
  return docker;
}

export interface EngineBuildOptions {
  readonly tag: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly noCache?: boolean;
  /** Network of the build's RUN steps (`host` where the engine has no bridge). */
  readonly network?: string;
  /** `linux/amd64` or `linux/arm64`: the base image is pulled for it, as the runtime's native code was picked for it. */
  readonly platform?: string;
}

/** What a failing build looked like: the step and the lines it printed before the daemon's error. */
interface BuildTrail {
  step: string | undefined;
  tail: string[];
}

/**
 * Build the context directory (sent as a tar stream; every file in it) and return the image id.
 * A failing step or a refused build is a DockerBuildError with the daemon's message.
 */
export async function buildContext(
  docker: Docker,
  contextDir: string,
  entries: readonly string[],
  opts: EngineBuildOptions,
  onEvent: (e: BuildEvent) => void,
): Promise<string> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(
      { context: contextDir, src: [...entries] },
      {
        t: opts.tag,
        rm: true,
        forcerm: true,
        nocache: opts.noCache ?? false,
        ...(opts.labels ? { labels: { ...opts.labels } } : {}),
        ...(opts.buildArgs ? { buildargs: { ...opts.buildArgs } } : {}),
        ...(opts.network ? { networkmode: opts.network } : {}),
        ...(opts.platform ? { platform: opts.platform } : {}),
      },
    );
  } catch (e) {
    const msg = (e as { json?: { message?: string } }).json?.message ?? (e as Error).message;
    throw new DockerBuildError(`the Docker engine refused the build: ${oneLine(String(msg))}`, [], { cause: e });
  }
  const trail: BuildTrail = { step: undefined, tail: [] };
  let id: string | undefined;
  let failure: string | undefined;
  await new Promise<void>((resolve, reject) => {
    const parser = new BuildStreamParser((e) => {
      if (e.kind === 'step') {
        trail.step = `step ${e.index}/${e.total} (${e.instruction.length > 80 ? `${e.instruction.slice(0, 79)}…` : e.instruction})`;
        trail.tail = [];
      } else if (e.kind === 'output') {
        trail.tail.push(e.line);
        if (trail.tail.length > 20) trail.tail.shift();
      } else if (e.kind === 'image') id = e.id;
      else if (e.kind === 'error') failure ??= e.message;
      onEvent(e);
    });
    stream.on('data', (d: Buffer) => parser.push(d));
    stream.on('end', () => {
      parser.end();
      resolve();
    });
    stream.on('error', reject);
  });
  if (failure !== undefined) {
    // our scripts explain themselves on a line starting `mlmodel: error:`; the daemon says which command failed
    const ours = trail.tail.filter((l) => l.startsWith('mlmodel: error:')).pop();
    const where = trail.step ? ` at ${trail.step}` : '';
    throw new DockerBuildError(`docker build failed${where}: ${oneLine(failure)}${ours ? ` — ${ours.replace(/^mlmodel: error: /, '')}` : ''}`, trail.tail);
  }
  if (id === undefined) {
    // the classic builder names the image in `aux` (API ≥ 1.30); older engines only tag it
    const info = await docker.getImage(opts.tag).inspect();
    id = info.Id;
  }
  return id;
}

/** Id and size (bytes, all layers) of an image, or null when the engine does not have it. */
export async function imageFacts(docker: Docker, ref: string): Promise<{ id: string; size: number } | null> {
  try {
    const info = await docker.getImage(ref).inspect();
    return { id: info.Id, size: info.Size };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw e;
  }
}
