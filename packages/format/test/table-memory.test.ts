/**
 * The chunked Parquet reader's memory does not grow with the file: in fresh `node` processes, the
 * table writer writes 8 million rows (about 1.2 GB once decoded, 220 MB on disk), then the reader
 * reads them back in chunks of 65 536 rows while the process's RSS is sampled. The peak RSS growth
 * over the read must stay under a quarter of the decoded size, with every row read, in order, and
 * the checksums of every value equal to the writer's. (Most of what the reader adds is constant:
 * the decoder worker and its wasm memory, and chunks the garbage collector has not yet reclaimed.)
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from './table-fixtures.js';

const run = promisify(execFile);
const SUPPORT = fileURLToPath(new URL('./support/', import.meta.url));
const ROWS = 8_000_000;
const BATCH_ROWS = 65_536;

async function child(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', './register-ts.mjs', 'table-memory.child.ts', ...args], {
    cwd: SUPPORT,
    maxBuffer: 1 << 20,
    timeout: 120_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('table-memory');
});
afterAll(async () => {
  await tmp.cleanup();
});

it(`reading ${ROWS} rows of Parquet in chunks of ${BATCH_ROWS} keeps RSS growth under 25% of the decoded size`, async () => {
  const file = tmp.path('big.parquet');
  const written = await child('write', file, String(ROWS));
  const read = await child('read', file, String(BATCH_ROWS));
  const decoded = read.decodedBytes as number;
  const growth = Math.max(read.peakRss as number, read.maxRss as number) - (read.baseRss as number);
  const mb = (x: number): string => `${(x / 2 ** 20).toFixed(0)} MiB`;
  console.log(
    `table-memory: wrote ${ROWS} rows in ${((written.ms as number) / 1000).toFixed(1)} s (${mb((await stat(file)).size)} on disk); ` +
      `read them in ${((read.ms as number) / 1000).toFixed(1)} s, ${read.chunks as number} chunks, ${mb(decoded)} decoded; ` +
      `RSS before ${mb(read.baseRss as number)}, peak growth ${mb(growth)} (${((100 * growth) / decoded).toFixed(1)}% of the decoded size)`,
  );
  expect(read).toMatchObject({ rows: ROWS, numRows: ROWS, ordered: true, maxChunkRows: BATCH_ROWS, chunks: Math.ceil(ROWS / BATCH_ROWS) });
  expect(read.sums).toEqual(written.sums);
  expect(decoded).toBeGreaterThan(1e9);
  expect(growth).toBeLessThan(0.25 * decoded);
}, 180_000);
