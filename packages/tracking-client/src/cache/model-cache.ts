/**
 * The content-addressed cache of downloaded models (`~/.cache/mlmodel`, or `$MLMODEL_CACHE_DIR`,
 * or `$XDG_CACHE_HOME/mlmodel`):
 *
 * ```
 * <root>/objects/sha256-<digest>/               the model's files (read-only)
 * <root>/objects/sha256-<digest>.manifest.json  every file's path, size and SHA-256
 * <root>/refs/<sha256 of the source key>.json   source (server + artifact URI) → digest
 * <root>/tmp/                                   downloads in progress
 * <root>/locks/                                 one download per source at a time
 * ```
 *
 * A download goes to a private temporary directory, is checked (sizes against the listing, an
 * MLmodel file present), hashed, and only then renamed into `objects/` — an atomic step, so a
 * reader sees a whole model or none, and two processes downloading the same model at once both
 * end with the same intact directory (the loser of the rename discards its copy). A lock file per
 * source makes the second process wait for the first instead of downloading again (a lock left
 * by a dead process on this host, or older than 10 minutes, is broken).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArtifactIntegrityError } from '../errors.js';
import type { ManifestEntry } from '../artifacts/transfer.js';
import { localPathWithin } from '../artifacts/safe-paths.js';

/** The cache directory: `$MLMODEL_CACHE_DIR`, else `$XDG_CACHE_HOME/mlmodel`, else `~/.cache/mlmodel`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MLMODEL_CACHE_DIR) return env.MLMODEL_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'mlmodel');
  return join(homedir(), '.cache', 'mlmodel');
}

interface Manifest {
  readonly version: 1;
  readonly digest: string;
  readonly files: readonly ManifestEntry[];
}

interface Ref {
  readonly key: string;
  readonly digest: string;
  readonly created: string;
}

/** The digest of a set of files: SHA-256 over `<sha256>  <size>  <path>\n` lines sorted by path. */
export function treeDigest(files: readonly ManifestEntry[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) h.update(`${f.sha256}  ${f.size}  ${f.path}\n`);
  return h.digest('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface CacheResult {
  /** The cached model directory. */
  readonly dir: string;
  readonly digest: string;
  /** True when nothing was downloaded. */
  readonly hit: boolean;
}

const LOCK_STALE_MS = 10 * 60 * 1000;
const LOCK_POLL_MS = 100;

export class ModelCache {
  constructor(readonly root: string = defaultCacheDir()) {}

  private objectDir(digest: string): string {
    return join(this.root, 'objects', `sha256-${digest}`);
  }

  private manifestFile(digest: string): string {
    return `${this.objectDir(digest)}.manifest.json`;
  }

  private refFile(key: string): string {
    return join(this.root, 'refs', `${sha256(key)}.json`);
  }

  /** The object for `digest` if it is complete: its manifest exists and every file has the recorded size. */
  async verified(digest: string): Promise<string | null> {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(this.manifestFile(digest), 'utf8')) as Manifest;
    } catch {
      return null;
    }
    const dir = this.objectDir(digest);
    if (manifest.digest !== digest || !Array.isArray(manifest.files)) return null;
    for (const f of manifest.files) {
      const s = await stat(localPathWithin(dir, f.path)).catch(() => null);
      if (!s?.isFile() || s.size !== f.size) return null;
    }
    return dir;
  }

  /** The cached directory for a source key, if it was downloaded before and is intact. */
  async lookup(key: string): Promise<CacheResult | null> {
    let ref: Ref;
    try {
      ref = JSON.parse(await readFile(this.refFile(key), 'utf8')) as Ref;
    } catch {
      return null;
    }
    if (ref.key !== key || typeof ref.digest !== 'string' || !/^[0-9a-f]{64}$/.test(ref.digest)) return null;
    const dir = await this.verified(ref.digest);
    return dir ? { dir, digest: ref.digest, hit: true } : null;
  }

  private async writeJsonAtomic(file: string, data: unknown): Promise<void> {
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(data, null, 2));
    await rename(tmp, file);
  }

  /** Take the per-key lock (a directory created atomically); stale locks (a dead process, or older than 10 min) are broken. */
  private async lock(key: string): Promise<() => Promise<void>> {
    const dir = join(this.root, 'locks', sha256(key));
    await mkdir(join(this.root, 'locks'), { recursive: true });
    for (;;) {
      try {
        await mkdir(dir);
        await writeFile(join(dir, 'owner'), JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now() }));
        return () => rm(dir, { recursive: true, force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let stale: boolean;
      try {
        const owner = JSON.parse(await readFile(join(dir, 'owner'), 'utf8')) as { pid: number; host?: string; since: number };
        // a pid only means something on the host (and in the pid namespace) that wrote it
        stale = Date.now() - owner.since > LOCK_STALE_MS || (owner.host === hostname() && !processAlive(owner.pid));
      } catch {
        // the owner file is written right after the directory: give it a moment, unless it is old
        const s = await stat(dir).catch(() => null);
        stale = s !== null && Date.now() - s.mtimeMs > 5_000;
      }
      if (stale) await rm(dir, { recursive: true, force: true });
      else await sleep(LOCK_POLL_MS);
    }
  }

  /**
   * The cached directory for `key`, downloading with `fill(tmpDir)` on a miss. `fill` writes the
   * files into the empty directory it gets and returns their manifest. With `reuse: false` a
   * cached ref is ignored (the source may have changed) but identical content is still shared.
   * `check(dir)` runs on a fresh download before it enters the cache; throw to refuse it.
   */
  async getOrAdd(
    key: string,
    fill: (tmpDir: string) => Promise<readonly ManifestEntry[]>,
    opts: { reuse?: boolean; check?: (dir: string) => Promise<void> } = {},
  ): Promise<CacheResult> {
    const reuse = opts.reuse ?? true;
    if (reuse) {
      const hit = await this.lookup(key);
      if (hit) return hit;
    }
    const unlock = await this.lock(key);
    try {
      if (reuse) {
        // another process may have finished the same download while we waited
        const hit = await this.lookup(key);
        if (hit) return hit;
      }
      await mkdir(join(this.root, 'tmp'), { recursive: true });
      await mkdir(join(this.root, 'objects'), { recursive: true });
      await mkdir(join(this.root, 'refs'), { recursive: true });
      const tmp = join(this.root, 'tmp', `dl-${process.pid}-${randomBytes(6).toString('hex')}`);
      await mkdir(tmp);
      try {
        const files = await fill(tmp);
        if (files.length === 0) throw new ArtifactIntegrityError(`${key}: no files were downloaded`);
        await opts.check?.(tmp);
        const digest = treeDigest(files);
        await this.commit(tmp, digest, files);
        if (reuse) await this.writeJsonAtomic(this.refFile(key), { key, digest, created: new Date().toISOString() } satisfies Ref);
        return { dir: this.objectDir(digest), digest, hit: false };
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    } finally {
      await unlock();
    }
  }

  /** Move a checked download into `objects/` (or keep the identical copy already there), under the object's own lock. */
  private async commit(tmp: string, digest: string, files: readonly ManifestEntry[]): Promise<void> {
    const unlock = await this.lock(`object:${digest}`);
    try {
      if (await this.verified(digest)) return;
      const dir = this.objectDir(digest);
      // a broken earlier copy (interrupted, tampered with) is replaced
      await rm(dir, { recursive: true, force: true });
      for (const f of files) await chmod(localPathWithin(tmp, f.path), 0o444);
      await this.writeJsonAtomic(this.manifestFile(digest), { version: 1, digest, files } satisfies Manifest);
      await rename(tmp, dir);
    } finally {
      await unlock();
    }
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
