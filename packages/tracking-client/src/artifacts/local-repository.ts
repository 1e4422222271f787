/**
 * Artifacts under a `file:` URI (the file store's, or a server's local artifact root on a shared
 * disk, as MLflow's LocalArtifactRepository). Symbolic links are refused: a listing must not
 * lead outside the artifact root.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TrackingConfigError, UnsafeArtifactPathError } from '../errors.js';
import type { ArtifactRepository } from '../store.js';
import type { FileInfo } from '../types.js';
import { joinArtifactPath, localPathWithin, safeRelativePath } from './safe-paths.js';

/** The local directory of a `file:` URI (or a plain absolute path). */
export function localPathOfUri(uri: string): string {
  if (!uri.startsWith('file:')) return uri;
  try {
    if (uri.startsWith('file://')) return fileURLToPath(uri);
    return fileURLToPath(`file://${uri.slice('file:'.length)}`);
  } catch (e) {
    throw new TrackingConfigError(`artifact URI ${uri} is not a usable file URI: ${(e as Error).message}`);
  }
}

/** A local directory as the `file://` URI MLflow writes (`pathlib.Path(p).as_uri()`). */
export function fileUriOf(path: string): string {
  return pathToFileURL(path).href;
}

/** A transform that hashes and counts what goes through it. */
export function hashingStream(): { stream: Transform; result: () => { size: number; sha256: string } } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, result: () => ({ size, sha256: hash.digest('hex') }) };
}

export class LocalArtifactRepository implements ArtifactRepository {
  readonly root: string;

  constructor(readonly uri: string) {
    this.root = localPathOfUri(uri);
  }

  /** Refuse a path whose file or any parent (below the root) is a symbolic link. */
  private async checkNoLinks(rel: string): Promise<void> {
    let cur = '';
    for (const seg of rel.split('/').filter(Boolean)) {
      cur = joinArtifactPath(cur, seg);
      const s = await lstat(localPathWithin(this.root, cur)).catch(() => null);
      if (s?.isSymbolicLink()) throw new UnsafeArtifactPathError(`${this.uri}: refusing ${JSON.stringify(cur)}: it is a symbolic link`);
    }
  }

  async list(relPath = ''): Promise<FileInfo[]> {
    const rel = safeRelativePath(relPath, this.uri);
    await this.checkNoLinks(rel);
    const dir = localPathWithin(this.root, rel);
    const s = await lstat(dir).catch(() => null);
    if (!s?.isDirectory()) return [];
    const out: FileInfo[] = [];
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = joinArtifactPath(rel, e.name);
      if (e.isSymbolicLink()) throw new UnsafeArtifactPathError(`${this.uri}: refusing ${JSON.stringify(path)}: it is a symbolic link`);
      if (e.isDirectory()) out.push({ path, is_dir: true });
      else if (e.isFile()) out.push({ path, is_dir: false, file_size: (await lstat(localPathWithin(this.root, path))).size });
      else throw new UnsafeArtifactPathError(`${this.uri}: refusing ${JSON.stringify(path)}: not a regular file or directory`);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async downloadFile(relPath: string, destFile: string): Promise<{ size: number; sha256: string }> {
    const rel = safeRelativePath(relPath, this.uri);
    await this.checkNoLinks(rel);
    const src = localPathWithin(this.root, rel);
    const s = await lstat(src).catch(() => null);
    if (!s?.isFile()) throw new UnsafeArtifactPathError(`${this.uri}: ${JSON.stringify(rel)} is not a regular file`);
    const h = hashingStream();
    await mkdir(dirname(destFile), { recursive: true });
    await pipeline(createReadStream(src), h.stream, createWriteStream(destFile, { flags: 'wx' }));
    return h.result();
  }

  async uploadFile(localFile: string, relPath: string): Promise<void> {
    const rel = safeRelativePath(relPath, this.uri);
    const dest = localPathWithin(this.root, rel);
    await mkdir(dirname(dest), { recursive: true });
    await pipeline(createReadStream(localFile), createWriteStream(dest));
  }
}
