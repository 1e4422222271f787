/**
 * `model.tar.gz` as SageMaker wants it: one gzipped tar with the model directory's files at the
 * archive root (`MLmodel`, not `model/MLmodel`), which SageMaker unpacks into /opt/ml/model.
 * The archive is deterministic (sorted entries, mtime 0, owner 0, modes 0644/0755, no gzip
 * timestamp), so the same model gives the same bytes and the same digest. `extractModelArchive`
 * unpacks one the way SageMaker does, refusing entries that would escape the directory.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix, resolve, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { SageMakerDeployError } from './errors.js';

const BLOCK = 512;

export interface ModelArchive {
  readonly bytes: Buffer;
  /** sha256 of the archive, hex. */
  readonly sha256: string;
  readonly files: number;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, type: '0' | '5' | 'x'): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(type === '5' ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [data] : [data, Buffer.alloc(BLOCK - rest, 0)];
}

/** An entry; a pax `path` record first for names that do not fit ustar's 100 bytes. */
function entry(name: string, type: '0' | '5', data: Buffer | null): Buffer[] {
  const out: Buffer[] = [];
  let short = name;
  if (Buffer.byteLength(name) > 100) {
    const body = (len: number): string => `${len} path=${name}\n`;
    let len = body(0).length;
    while (Buffer.byteLength(body(len)) !== len) len = Buffer.byteLength(body(len));
    const pax = Buffer.from(body(len), 'utf8');
    out.push(header(`PaxHeaders/${createHash('sha1').update(name).digest('hex')}`, pax.length, 'x'), ...padded(pax));
    short = name.slice(-99).replace(/^\/+/, '');
  }
  out.push(header(short, data?.length ?? 0, type));
  if (data && data.length > 0) out.push(...padded(data));
  return out;
}

async function walk(root: string, rel: string, out: { name: string; dir: boolean; abs: string }[]): Promise<void> {
  const names = (await readdir(join(root, rel))).sort();
  for (const n of names) {
    const r = rel ? posix.join(rel, n) : n;
    const abs = join(root, r);
    const s = await stat(abs); // follows symlinks: the archive carries contents, never links
    if (s.isDirectory()) {
      out.push({ name: `${r}/`, dir: true, abs });
      await walk(root, r, out);
    } else if (s.isFile()) {
      out.push({ name: r, dir: false, abs });
    }
  }
}

/** The model directory as a deterministic `model.tar.gz`, entries at the archive root. */
export async function createModelArchive(modelDir: string): Promise<ModelArchive> {
  const items: { name: string; dir: boolean; abs: string }[] = [];
  await walk(modelDir, '', items);
  if (!items.some((i) => i.name === 'MLmodel')) throw new SageMakerDeployError(`${modelDir} has no MLmodel file at its root: not a model directory`);
  const parts: Buffer[] = [];
  for (const i of items) parts.push(...entry(i.name, i.dir ? '5' : '0', i.dir ? null : await readFile(i.abs)));
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  const bytes = gzipSync(Buffer.concat(parts), { level: 6 });
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), files: items.filter((i) => !i.dir).length };
}

function field(h: Buffer, at: number, len: number): string {
  const raw = h.subarray(at, at + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString('utf8');
}

/** Unpack a model archive into `dest` (created), as SageMaker does into /opt/ml/model; returns the files written. */
export async function extractModelArchive(archive: Buffer, dest: string): Promise<string[]> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive);
  } catch (e) {
    throw new SageMakerDeployError(`the model archive is not gzip data: ${(e as Error).message}`, 'INVALID_PARAMETER_VALUE', { cause: e });
  }
  const root = resolve(dest);
  await mkdir(root, { recursive: true, mode: 0o755 });
  const written: string[] = [];
  let paxPath: string | null = null;
  for (let at = 0; at + BLOCK <= tar.length;) {
    const h = tar.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156]!);
    const prefix = field(h, 345, 155);
    let name = paxPath ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    const data = tar.subarray(at + BLOCK, at + BLOCK + size);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      paxPath = m ? m[1]! : null;
      continue;
    }
    if (type === 'L') {
      // GNU tar's long name: the next entry's path
      paxPath = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    paxPath = null;
    if (type === 'g') continue;
    name = name.replace(/^\.\//, '');
    if (name === '' || name === '.') continue;
    const target = resolve(root, name);
    if (target !== root && !target.startsWith(root + sep))
      throw new SageMakerDeployError(`the model archive has an entry outside its root: ${JSON.stringify(name)}`);
    if (type === '5') {
      await mkdir(target, { recursive: true, mode: 0o755 });
    } else if (type === '0' || type === '\0') {
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      await writeFile(target, data, { mode: 0o644 });
      written.push(name);
    } else {
      throw new SageMakerDeployError(`the model archive has an entry of a kind SageMaker models should not hold (type ${JSON.stringify(type)}): ${name}`);
    }
  }
  return written;
}
