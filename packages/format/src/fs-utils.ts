import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelFormatError } from './errors.js';

/** Write a file atomically: a temporary sibling, then rename, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Read a UTF-8 text file, turning "not found" and "is a directory" into ModelFormatErrors that name the file. */
export async function readTextFile(path: string, maxBytes = 64 * 1024 * 1024): Promise<string> {
  let size: number;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new ModelFormatError('expected a file but found a directory', { file: path });
    size = s.size;
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(fsMessage(e), { file: path, errorCode: 'RESOURCE_DOES_NOT_EXIST', cause: e });
  }
  if (size > maxBytes) throw new ModelFormatError(`file is too large (${size} bytes; limit ${maxBytes})`, { file: path });
  return readFile(path, 'utf8');
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function fsMessage(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  return (e as Error).message;
}
