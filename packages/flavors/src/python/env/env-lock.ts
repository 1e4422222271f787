import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FlavorLogger } from '../../flavor.js';
import { PythonEnvError } from './errors.js';

/** An owned lock directory; `release` removes it. */
export interface EnvLock {
  release(): Promise<void>;
}

export interface AcquireOptions {
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly logger?: FlavorLogger;
  /** Checked while waiting: when it turns true the lock is no longer needed and `acquireEnvLock` returns null. */
  readonly done?: () => Promise<boolean>;
}

const OWNER_FILE = 'owner.json';
/** A lock directory without an owner file older than this is left over from a crash. */
const OWNERLESS_STALE_MS = 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock's owner is a process on this host that no longer exists (or the lock never got an owner). */
async function isStale(lockDir: string): Promise<boolean> {
  try {
    const owner = JSON.parse(await readFile(join(lockDir, OWNER_FILE), 'utf8')) as { pid?: unknown; host?: unknown };
    return owner.host === hostname() && typeof owner.pid === 'number' && !pidAlive(owner.pid);
  } catch {
    try {
      return Date.now() - (await stat(lockDir)).mtimeMs > OWNERLESS_STALE_MS;
    } catch {
      return false; // released meanwhile
    }
  }
}

/**
 * Take the lock directory `lockDir` (mkdir is atomic: one process wins). Waits while another live
 * process holds it; takes over locks whose owner died. Returns null when `done` turned true while
 * waiting (the other process finished the work).
 */
export async function acquireEnvLock(lockDir: string, opts: AcquireOptions): Promise<EnvLock | null> {
  const pollMs = opts.pollMs ?? 250;
  const deadline = Date.now() + opts.timeoutMs;
  let told = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, OWNER_FILE), JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      return { release: () => rm(lockDir, { recursive: true, force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (opts.done && (await opts.done())) return null;
    if (await isStale(lockDir)) {
      opts.logger?.warn(`removing the stale lock ${lockDir} (its owner is gone)`);
      // rename first: only one of several processes that saw the stale lock moves it away
      const trash = `${lockDir}.stale-${randomBytes(4).toString('hex')}`;
      try {
        await rename(lockDir, trash);
        await rm(trash, { recursive: true, force: true });
      } catch {
        // someone else took it over first
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new PythonEnvError(
        `gave up after ${opts.timeoutMs} ms waiting for another process to finish creating the environment locked by ${lockDir}; ` +
          'if no such process runs, remove that directory',
      );
    }
    if (!told) {
      opts.logger?.info(`waiting for another process that is creating the same environment (lock ${lockDir})`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
