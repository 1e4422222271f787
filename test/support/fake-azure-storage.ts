/**
 * Blob storage for the `mlmodel deploy azureml` tests: Azurite, Microsoft's Blob emulator (a real
 * implementation, npm devDependency of @mlmodel/deploy-azureml), started on a free port with a
 * throwaway data directory and no telemetry. It stands in for the workspace's default datastore.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ROOT, freePort } from './serve-process.js';

/** Azurite's well-known development account (public, documented; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** http://127.0.0.1:<port>/devstoreaccount1 */
  readonly blobEndpoint: string;
  readonly service: BlobServiceClient;
  /** Names of the blobs in a container (optionally under a prefix). */
  blobs(container: string, prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startAzurite(): Promise<Azurite> {
  const require = createRequire(join(ROOT, 'packages', 'deploy-azureml', 'package.json'));
  const bin = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mlmodel-azurite-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--silent', '--skipApiVersionCheck', '--disableTelemetry', '--loose'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const service = new BlobServiceClient(blobEndpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  const t0 = Date.now();
  for (;;) {
    try {
      await service.getProperties();
      break;
    } catch (e) {
      if (child.exitCode !== null || Date.now() - t0 > 20_000) {
        child.kill();
        throw new Error(`Azurite did not start (${(e as Error).message}): ${output}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    blobEndpoint,
    service,
    async blobs(container, prefix) {
      const out: string[] = [];
      for await (const b of service.getContainerClient(container).listBlobsFlat(prefix ? { prefix } : {})) out.push(b.name);
      return out;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
