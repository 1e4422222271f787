/**
 * Whole-directory transfers over an ArtifactRepository: a recursive, checked listing; a download
 * that verifies every file against the listing; an upload of a local directory.
 *
 * Every listed path is re-checked here (plain segments only, inside the requested prefix, listed
 * once), directories nest at most {@link MAX_DEPTH} deep and a listing holds at most
 * {@link MAX_FILES} files, so a hostile or broken server cannot make the client write outside the
 * destination, loop forever or fill the disk with entries.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactIntegrityError, UnsafeArtifactPathError } from '../errors.js';
import type { ArtifactRepository } from '../store.js';
import type { FileInfo } from '../types.js';
import { joinArtifactPath, localPathWithin, safeRelativePath } from './safe-paths.js';

export const MAX_DEPTH = 64;
export const MAX_FILES = 100_000;

/** One downloaded file: its path relative to the download root, size and SHA-256. */
export interface ManifestEntry {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Every file under `prefix` (paths relative to the repository root), checked. */
export async function listFilesRecursive(repo: ArtifactRepository, prefix: string): Promise<FileInfo[]> {
  const root = safeRelativePath(prefix, repo.uri);
  const seen = new Set<string>();
  const files: FileInfo[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH)
      throw new UnsafeArtifactPathError(`${repo.uri}: artifact directories nest deeper than ${MAX_DEPTH} levels under ${JSON.stringify(root || '/')}`);
    for (const entry of await repo.list(dir)) {
      const path = safeRelativePath(entry.path, repo.uri);
      const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      if (parent !== dir) {
        throw new UnsafeArtifactPathError(
          `${repo.uri}: the listing of ${JSON.stringify(dir || '/')} names ${JSON.stringify(entry.path)}, which is not directly inside it`,
        );
      }
      if (seen.has(path)) throw new UnsafeArtifactPathError(`${repo.uri}: the listing names ${JSON.stringify(path)} twice`);
      seen.add(path);
      if (entry.is_dir) await walk(path, depth + 1);
      else {
        files.push({ ...entry, path });
        if (files.length > MAX_FILES)
          throw new UnsafeArtifactPathError(`${repo.uri}: more than ${MAX_FILES} artifact files under ${JSON.stringify(root || '/')}`);
      }
    }
  };
  await walk(root, 0);
  return files;
}

/** Run `fn` over `items` with at most `limit` at a time. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Download everything under `prefix` into `destDir` (which must be new and empty), each file
 * checked against its listed size and created exclusively (never through an existing path).
 * Returns the manifest, paths relative to `prefix`, sorted (empty when nothing is there).
 */
export async function downloadTree(repo: ArtifactRepository, prefix: string, destDir: string, concurrency = 4): Promise<ManifestEntry[]> {
  const root = safeRelativePath(prefix, repo.uri);
  const files = await listFilesRecursive(repo, root);
  const manifest: ManifestEntry[] = [];
  await eachLimited(files, concurrency, async (f) => {
    const rel = root ? f.path.slice(root.length + 1) : f.path;
    const dest = localPathWithin(destDir, rel);
    const got = await repo.downloadFile(f.path, dest);
    if (f.file_size !== undefined && got.size !== f.file_size) {
      throw new ArtifactIntegrityError(
        `${repo.uri}: ${f.path} is ${got.size} bytes, but the listing said ${f.file_size}: the download is incomplete or the artifact changed; try again`,
      );
    }
    manifest.push({ path: rel, size: got.size, sha256: got.sha256 });
  });
  return manifest.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The regular files under a local directory, relative and `/`-separated; symbolic links are refused. */
export async function localFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = join(e.parentPath, e.name);
    const rel = full
      .slice(dir.length + 1)
      .split(/[\\/]/)
      .join('/');
    if (e.isSymbolicLink()) throw new UnsafeArtifactPathError(`${full} is a symbolic link: copy the file it points to into the model directory`);
    if (e.isFile()) out.push(rel);
    else if (!e.isDirectory()) throw new UnsafeArtifactPathError(`${full} is not a regular file`);
  }
  return out.sort();
}

/** Upload every file of a local directory under `prefix` of the repository. */
export async function uploadTree(repo: ArtifactRepository, localDir: string, prefix: string, concurrency = 4): Promise<string[]> {
  if (!(await lstat(localDir)).isDirectory()) throw new ArtifactIntegrityError(`${localDir} is not a directory`);
  const files = await localFiles(localDir);
  await eachLimited(files, concurrency, async (rel) => {
    await repo.uploadFile(join(localDir, ...rel.split('/')), joinArtifactPath(prefix, rel));
  });
  return files;
}
