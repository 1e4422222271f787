/**
 * pushImage against the real Docker engine and a real registry (Debian's docker-registry with
 * htpasswd auth, started by scripts/registry-setup.sh): login check, tag, push, digest, and the
 * errors a user meets (bad password, no credentials, no such image, registry down), none of
 * which may carry the password.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainPushProgress, pushImage, RegistryAuthError, RegistryPushError, splitImageReference, type PushEvent } from '../src/index.js';
import { docker, dockerOk, requireEngineAndBases } from '../../../test/support/docker.js';
import { ECR_USER, registryDigest, registryTags, testRegistry, type TestRegistry } from '../../../test/support/registry.js';

const run = randomBytes(4).toString('hex');
/** A tiny local image with content unique to this run, so its layer really travels. */
const IMAGE = `mlmodel-test/push-probe:${run}`;
let registry: TestRegistry;
let dir: string;

beforeAll(async () => {
  requireEngineAndBases([]);
  registry = await testRegistry();
  dir = mkdtempSync(join(tmpdir(), 'mlmodel-push-'));
  writeFileSync(join(dir, 'payload.bin'), randomBytes(256 * 1024));
  writeFileSync(join(dir, 'run.txt'), run);
  dockerOk(['build', '-q', '-t', IMAGE, '-f', '-', dir], { input: 'FROM scratch\nCOPY payload.bin run.txt /\n' });
});

afterAll(() => {
  docker(['image', 'rm', '-f', IMAGE, `${registry?.address}/mlmodel-test/push-probe:${run}`, `${registry?.address}/mlmodel-test/push-probe:anon-${run}`]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('pushImage to a real registry with htpasswd auth', () => {
  it('logs in, tags, pushes, and returns the digest the registry stores', async () => {
    const user = registry.credentialsFor(ECR_USER);
    const events: PushEvent[] = [];
    const lines: string[] = [];
    const statuses: string[] = [];
    const target = `${registry.address}/mlmodel-test/push-probe:${run}`;
    const view = plainPushProgress((l) => lines.push(l));
    const pushed = await pushImage({
      image: IMAGE,
      target,
      credentials: user,
      onEvent: (e) => {
        events.push(e);
        view(e);
      },
      onStatus: (s) => statuses.push(s),
    });
    expect(pushed).toMatchObject({ target, registry: registry.address, repository: 'mlmodel-test/push-probe', tag: run });
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await registryDigest(registry, 'mlmodel-test/push-probe', run, user)).toBe(pushed.digest);
    expect(await registryTags(registry, 'mlmodel-test/push-probe', user)).toContain(run);
    expect(events.some((e) => e.kind === 'layer' && e.status === 'Pushed')).toBe(true);
    expect(events.filter((e) => e.kind === 'digest').map((e) => (e.kind === 'digest' ? e.digest : ''))).toEqual([pushed.digest]);
    expect(statuses).toEqual([`logging in to ${registry.address} as AWS`, `pushing ${registry.address}/mlmodel-test/push-probe:${run}`]);
    expect(lines.at(-1)).toBe(`pushed ${run}: ${pushed.digest} (manifest ${(events.find((e) => e.kind === 'digest') as { size: number }).size} bytes)`);
    expect(JSON.stringify({ events, lines, statuses })).not.toContain(user.password);
    // the pushed image pulls back by digest
    dockerOk(['image', 'rm', `${registry.address}/mlmodel-test/push-probe:${run}`]);
    const pulled = docker(['pull', `${registry.address}/mlmodel-test/push-probe@${pushed.digest}`], { timeoutMs: 60_000 });
    // the engine has no stored login for this registry: anonymous pulls are refused, which proves auth is on
    expect(pulled.status).not.toBe(0);
    expect(pulled.stderr).toMatch(/no basic auth credentials|unauthorized/i);
  });

  it('refuses a wrong password before pushing anything, without echoing it', async () => {
    const bad = { username: ECR_USER, password: `wrong-${run}` };
    const err = await pushImage({ image: IMAGE, target: `${registry.address}/mlmodel-test/push-probe:bad-${run}`, credentials: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect((err as Error).message).toMatch(/^the registry 127\.0\.0\.1:\d+ refused the login of AWS: .*401/);
    expect((err as Error).message).not.toContain(bad.password);
    expect(await registryTags(registry, 'mlmodel-test/push-probe', registry.credentialsFor(ECR_USER))).not.toContain(`bad-${run}`);
  });

  it('says the registry wants credentials when none are given', async () => {
    const err = await pushImage({ image: IMAGE, target: `${registry.address}/mlmodel-test/push-probe:anon-${run}` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect((err as Error).message).toMatch(/refused the push of mlmodel-test\/push-probe:anon-.*no basic auth credentials/);
  });

  it('refuses empty credentials, an image the engine lacks, and a registry that does not answer', async () => {
    const user = registry.credentialsFor(ECR_USER);
    await expect(pushImage({ image: IMAGE, target: `${registry.address}/x:1`, credentials: { username: 'AWS', password: '' } })).rejects.toThrow(
      /credentials for 127\.0\.0\.1:\d+ are empty/,
    );
    await expect(pushImage({ image: `mlmodel-test/absent:${run}`, target: `${registry.address}/x:1`, credentials: user })).rejects.toThrow(RegistryPushError);
    await expect(pushImage({ image: `mlmodel-test/absent:${run}`, target: `${registry.address}/x:1`, credentials: user })).rejects.toThrow(
      /has no image mlmodel-test\/absent:.* to push: build it first/,
    );
    const down = await pushImage({ image: IMAGE, target: '127.0.0.1:1/x:1', credentials: user }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(RegistryAuthError);
    expect((down as Error).message).toMatch(/could not log in to the registry 127\.0\.0\.1:1 as AWS: .*connection refused/);
    expect((down as Error).message).not.toContain(user.password);
  });
});

describe('image references and push progress', () => {
  it('splits references as Docker does', () => {
    expect(splitImageReference('123456789012.dkr.ecr.us-west-2.amazonaws.com/mlmodel/iris:1')).toEqual({
      registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
      repository: 'mlmodel/iris',
      tag: '1',
    });
    expect(splitImageReference('127.0.0.1:5001/iris')).toEqual({ registry: '127.0.0.1:5001', repository: 'iris', tag: 'latest' });
    expect(splitImageReference('localhost/iris:2')).toEqual({ registry: 'localhost', repository: 'iris', tag: '2' });
    expect(splitImageReference('team/iris:2')).toEqual({ registry: null, repository: 'team/iris', tag: '2' });
    expect(() => splitImageReference('host.io/Iris:1')).toThrow(RegistryPushError);
    expect(() => splitImageReference('host.io/iris@sha256:abc')).toThrow(/names a digest/);
    expect(() => splitImageReference('host.io/iris:bad tag')).toThrow(/not a valid image name/);
  });

  it('prints layer state changes and byte totals at most once per interval', () => {
    let t = 0;
    const lines: string[] = [];
    const view = plainPushProgress((l) => lines.push(l), { intervalMs: 1000, now: () => t });
    view({ kind: 'status', line: 'The push refers to repository [h/r]' });
    view({ kind: 'layer', id: 'a', status: 'Preparing' });
    view({ kind: 'layer', id: 'a', status: 'Pushing', current: 1e6, total: 4e6 });
    view({ kind: 'layer', id: 'a', status: 'Pushing', current: 2e6, total: 4e6 });
    t = 1500;
    view({ kind: 'layer', id: 'a', status: 'Pushing', current: 3e6, total: 4e6 });
    view({ kind: 'layer', id: 'a', status: 'Pushing', current: 3.5e6, total: 4e6 });
    view({ kind: 'layer', id: 'a', status: 'Pushed' });
    view({ kind: 'status', line: '1: digest: sha256:00 size: 5' });
    view({ kind: 'digest', tag: '1', digest: 'sha256:00', size: 5 });
    expect(lines).toEqual([
      'The push refers to repository [h/r]',
      'layer a: Preparing',
      'layer a: Pushing',
      'pushing: 3.0 of 4.0 MB',
      'layer a: Pushed',
      'pushed 1: sha256:00 (manifest 5 bytes)',
    ]);
  });
});
