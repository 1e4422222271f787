/**
 * `runLocal`: the image run exactly as SageMaker runs it, through the Docker engine (dockerode,
 * via image-builder's `connectDocker`): the model goes through the same `model.tar.gz` that a
 * deploy uploads, unpacked into a temporary directory mounted read-only at /opt/ml/model; the
 * container is started with the argument `serve` and SAGEMAKER_BIND_TO_PORT; `/ping` is polled
 * with SageMaker's 2 s timeout until it answers 200. `stop()` stops and removes the container
 * and the directory.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelUriResolver } from '@mlmodel/format';
import { CONTAINER_MODEL_DIR, connectDocker, type Docker } from '@mlmodel/image-builder';
import { SageMakerDeployError, oneLine } from './errors.js';
import { createModelArchive, extractModelArchive } from './model-archive.js';
import { resolveModel } from './setup.js';

export interface RunLocalOptions {
  readonly model: string;
  readonly resolver?: ModelUriResolver;
  /** The image to run (as built by build-and-push or build-docker). */
  readonly image: string;
  /** Host port (default 8080); the container listens on it through SAGEMAKER_BIND_TO_PORT. */
  readonly port?: number;
  /** `host` to share the host's network (the port is then the container's); default: the bridge with the port published on 127.0.0.1. */
  readonly network?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** How long /ping may take to answer 200 (default SageMaker's 4 min). */
  readonly readyTimeoutMs?: number;
  readonly onStatus?: (line: string) => void;
  readonly docker?: Docker;
}

export interface LocalContainer {
  readonly url: string;
  readonly containerId: string;
  readonly modelDir: string;
  readonly archiveSha256: string;
  /** From start to the first 200 on /ping. */
  readonly readyMs: number;
  logs(): Promise<string>;
  /** Resolves with the exit code when the container stops by itself (or is stopped). */
  waitExit(): Promise<number>;
  /** Stop (SIGTERM, then SIGKILL after 10 s) and remove the container and the model directory. */
  stop(): Promise<void>;
}

export const DEFAULT_READY_TIMEOUT_MS = 240_000;

function demux(buf: Buffer): string {
  // docker's multiplexed log stream: 8-byte frame headers when there is no TTY
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length && (buf[at] === 1 || buf[at] === 2) && buf[at + 1] === 0) {
    const len = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + len));
    at += 8 + len;
  }
  return (at === 0 ? buf : Buffer.concat(parts)).toString('utf8');
}

export async function runLocal(o: RunLocalOptions): Promise<LocalContainer> {
  const status = o.onStatus ?? (() => undefined);
  const port = o.port ?? 8080;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SageMakerDeployError(`--port must be 1-65535, got ${port}`);
  const model = await resolveModel(o.model, o.resolver);
  const docker = o.docker ?? (await connectDocker());
  try {
    await docker.getImage(o.image).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404)
      throw new SageMakerDeployError(`the Docker engine has no image ${o.image}: build it (mlmodel deploy sagemaker build-and-push, or mlmodel build-docker)`);
    throw e;
  }
  const archive = await createModelArchive(model.dir);
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-sagemaker-local-'));
  const modelDir = join(dir, 'model');
  const cleanDir = (): Promise<void> => rm(dir, { recursive: true, force: true });
  let containerId: string | null = null;
  try {
    await chmod(dir, 0o755); // the container's user (uid 10001) reads it
    await extractModelArchive(archive.bytes, modelDir);
    const host = o.network === 'host';
    const env = [...Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`), `SAGEMAKER_BIND_TO_PORT=${port}`, 'SERVING_ENVIRONMENT=SageMaker'];
    status(`running ${o.image} serve with ${model.dir} (model.tar.gz ${archive.sha256.slice(0, 12)}) at ${CONTAINER_MODEL_DIR}, port ${port}`);
    const container = await docker.createContainer({
      Image: o.image,
      Cmd: ['serve'],
      Env: env,
      ...(host ? {} : { ExposedPorts: { [`${port}/tcp`]: {} } }),
      HostConfig: {
        Binds: [`${modelDir}:${CONTAINER_MODEL_DIR}:ro`],
        ...(host ? { NetworkMode: 'host' } : { PortBindings: { [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] } }),
      },
      Labels: { 'mlmodel.run-local': 'true' },
    });
    containerId = container.id;
    const started = performance.now();
    await container.start();
    const url = `http://127.0.0.1:${port}`;
    const logs = async (): Promise<string> => {
      try {
        return demux((await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
      } catch {
        return '';
      }
    };
    const stop = async (): Promise<void> => {
      await container.stop({ t: 10 }).catch(() => undefined);
      await container.remove({ force: true }).catch(() => undefined);
      await cleanDir();
    };
    const timeout = o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    for (let i = 0; ; i++) {
      try {
        const r = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2_000) });
        await r.arrayBuffer();
        if (r.status === 200) break;
      } catch {
        // not listening yet
      }
      if (i % 10 === 9 || performance.now() - started > timeout) {
        const state = await container.inspect();
        if (!state.State.Running) {
          const tail = oneLine((await logs()).split('\n').slice(-5).join('\n'));
          await stop();
          throw new SageMakerDeployError(`the container exited with ${state.State.ExitCode} before /ping answered: ${tail || 'no output'}`);
        }
        if (performance.now() - started > timeout) {
          await stop();
          throw new SageMakerDeployError(`the container did not answer /ping with 200 within ${timeout / 1000} s (SageMaker would fail the endpoint)`);
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const readyMs = performance.now() - started;
    status(`ready at ${url} after ${(readyMs / 1000).toFixed(1)} s`);
    const waitExit = async (): Promise<number> => {
      try {
        return ((await container.wait()) as { StatusCode: number }).StatusCode;
      } catch {
        return -1;
      }
    };
    return { url, containerId, modelDir, archiveSha256: archive.sha256, readyMs, logs, waitExit, stop };
  } catch (e) {
    if (containerId)
      await docker
        .getContainer(containerId)
        .remove({ force: true })
        .catch(() => undefined);
    await cleanDir();
    throw e;
  }
}
