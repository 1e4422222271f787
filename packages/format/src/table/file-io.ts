/** Small file helpers for the readers: opening with errors that name the file, and exact positional reads. */
import { open, type FileHandle } from 'node:fs/promises';
import { TableReadError } from '../errors.js';
import { fsMessage } from '../fs-utils.js';

/** Open a file for reading; a missing file, a directory or no permission is a TableReadError (`io`). */
export async function openForReading(path: string, format?: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new TableReadError(path, fsMessage(e), { problem: 'io', format, cause: e });
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new TableReadError(path, 'expected a file but found a directory', { problem: 'io', format });
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    if (e instanceof TableReadError) throw e;
    throw new TableReadError(path, fsMessage(e), { problem: 'io', format, cause: e });
  }
}

/** Fill `target` from `position` of the file; fewer bytes available is an error built by `short`. */
export async function readFully(fh: FileHandle, target: Uint8Array, position: number, short: () => Error): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await fh.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw short();
    done += bytesRead;
  }
}

/** `length` bytes at `position`, in a fresh buffer. */
export async function readAt(fh: FileHandle, position: number, length: number, short: () => Error): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await readFully(fh, out, position, short);
  return out;
}
