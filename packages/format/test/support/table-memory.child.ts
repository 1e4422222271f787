/**
 * Child process of the bounded-memory test (run with `node --expose-gc --import ./register-ts.mjs`).
 *
 * `write <path> <rows>` writes a Parquet table with the table writer: `id` int64, `x` float64 and
 * `s`, a string of 2–263 ASCII bytes (`<id>:` then a prefix of a fixed alphabet), about 155 bytes
 * a row decoded. `read <path> <batchRows>` reads it back in chunks, recomputes the checksums
 * (sums of ids, of x, of every string byte and of the string lengths), and reports them with the
 * chunk sizes, the time and the memory: RSS before the read, its peak sampled at every chunk and
 * on a 5 ms timer, and the process's maxRSS. Each mode prints one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { Utf8Array } from '../../src/batch/string-array.js';
import type { ColumnBatch } from '../../src/batch/types.js';
import { openTableReader, openTableWriter } from '../../src/table/index.js';

const ALPHABET = new TextEncoder().encode('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'.repeat(4));

/** Strings `<r>:<ALPHABET prefix of r % 256 bytes>` for rows off..off+n, built straight into bytes. */
function strings(off: number, n: number): { values: Utf8Array; byteSum: number } {
  const offsets = new Int32Array(n + 1);
  const bytes = new Uint8Array(n * 272);
  let pos = 0;
  let byteSum = 0;
  for (let i = 0; i < n; i++) {
    const r = off + i;
    const start = pos;
    let x = r;
    do {
      bytes[pos++] = 48 + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
    bytes.subarray(start, pos).reverse();
    bytes[pos++] = 58;
    const k = r % 256;
    bytes.set(ALPHABET.subarray(0, k), pos);
    pos += k;
    offsets[i + 1] = pos;
  }
  for (let p = 0; p < pos; p++) byteSum += bytes[p]!;
  return { values: new Utf8Array(offsets, bytes.subarray(0, pos)), byteSum };
}

async function write(file: string, rows: number): Promise<void> {
  const t0 = performance.now();
  const w = await openTableWriter(file);
  const sums = { id: 0, x: 0, bytes: 0, length: 0 };
  const step = 131_072;
  for (let off = 0; off < rows; off += step) {
    const n = Math.min(step, rows - off);
    const id = new BigInt64Array(n);
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const r = off + i;
      id[i] = BigInt(r);
      x[i] = r * 0.25;
      sums.id += r;
      sums.x += x[i]!;
    }
    const s = strings(off, n);
    sums.bytes += s.byteSum;
    sums.length += s.values.offsets[n]!;
    const batch: ColumnBatch = {
      kind: 'columns',
      numRows: n,
      columns: [
        { name: 'id', dtype: 'int64', values: id },
        { name: 'x', dtype: 'float64', values: x },
        { name: 's', dtype: 'str', values: s.values },
      ],
    };
    await w.write(batch);
  }
  await w.close();
  console.log(JSON.stringify({ rows, sums, ms: performance.now() - t0 }));
}

async function read(file: string, batchRows: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  const sample = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 5);
  const t0 = performance.now();
  const reader = await openTableReader(file, { batchRows });
  const sums = { id: 0, x: 0, bytes: 0, length: 0 };
  let rows = 0;
  let chunks = 0;
  let maxChunkRows = 0;
  let ordered = true;
  let decodedBytes = 0;
  for await (const chunk of reader) {
    if (chunk.rowOffset !== rows) ordered = false;
    const [id, x, s] = (chunk.batch as ColumnBatch).columns.map((c) => c.values) as [BigInt64Array, Float64Array, Utf8Array];
    for (let i = 0; i < chunk.numRows; i++) {
      sums.id += Number(id[i]!);
      sums.x += x[i]!;
    }
    const end = s.offsets[chunk.numRows]!;
    for (let p = s.offsets[0]!; p < end; p++) sums.bytes += s.bytes[p]!;
    sums.length += end - s.offsets[0]!;
    decodedBytes += id.byteLength + x.byteLength + s.offsets.byteLength + (end - s.offsets[0]!);
    rows += chunk.numRows;
    chunks++;
    maxChunkRows = Math.max(maxChunkRows, chunk.numRows);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
  const ms = performance.now() - t0;
  clearInterval(sample);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ rows, numRows: reader.numRows, chunks, maxChunkRows, ordered, sums, decodedBytes, ms, baseRss, peakRss, maxRss }));
}

const [mode, path, arg] = process.argv.slice(2);
if (mode === 'write') await write(path!, Number(arg));
else if (mode === 'read') await read(path!, Number(arg));
else throw new Error('usage: write <path> <rows> | read <path> <batchRows>');
