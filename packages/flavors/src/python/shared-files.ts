/**
 * The two files a worker and Node share for large payloads: Node writes PREDICT payloads into the
 * request file, the worker writes large RESULT payloads into the result file, both at offset 0, and
 * only a short frame saying "payload of N bytes is in the file" crosses the stdio socket. The files
 * live in /dev/shm (memory) when it exists, and are unlinked right after opening: the open
 * descriptors (passed to the child as fds 3 and 4) keep them alive, and nothing is left behind when
 * either process dies.
 */
import { closeSync, existsSync, openSync, readSync, unlinkSync, writevSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

function sharedDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

function openUnlinked(dir: string, tag: string): number {
  const path = join(dir, `mlmodel-py-${process.pid}-${tag}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'wx+', 0o600);
  try {
    unlinkSync(path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

export class SharedFiles {
  /** Payloads at least this large go through the files; smaller ones are cheaper on the socket. */
  static readonly MIN_BYTES = 64 * 1024;

  readonly requestFd: number;
  readonly resultFd: number;
  #closed = false;

  private constructor(requestFd: number, resultFd: number) {
    this.requestFd = requestFd;
    this.resultFd = resultFd;
  }

  /** Both files, or null when they cannot be created (then every payload uses the socket). */
  static open(): SharedFiles | null {
    const dir = sharedDir();
    let req: number;
    try {
      req = openUnlinked(dir, 'req');
    } catch {
      return null;
    }
    try {
      return new SharedFiles(req, openUnlinked(dir, 'res'));
    } catch {
      closeSync(req);
      return null;
    }
  }

  /** Write the payload parts at offset 0 of the request file. */
  writeRequest(parts: readonly Uint8Array[], total: number): void {
    let done = 0;
    let rest = parts.filter((p) => p.byteLength > 0);
    while (done < total) {
      const n = writevSync(this.requestFd, rest, done);
      if (n <= 0) throw new Error(`short write to the shared request file (${done} of ${total} bytes)`);
      done += n;
      let skip = n;
      while (skip > 0 && rest.length > 0) {
        const first = rest[0]!;
        if (skip >= first.byteLength) {
          skip -= first.byteLength;
          rest = rest.slice(1);
        } else {
          rest = [first.subarray(skip), ...rest.slice(1)];
          skip = 0;
        }
      }
    }
  }

  /** Read `length` bytes from offset 0 of the result file into a new buffer (its own ArrayBuffer, offset 0). */
  readResult(length: number): Uint8Array {
    // not zero-filled first: every byte is overwritten below, or the read throws
    const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.resultFd, out, got, length - got, got);
      if (n <= 0) throw new Error(`the shared result file holds ${got} bytes, the worker announced ${length}`);
      got += n;
    }
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.requestFd);
    closeSync(this.resultFd);
  }
}
