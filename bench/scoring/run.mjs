// Speed of the MLflow scoring codec (request parsing and response encoding) against the built-in
// JSON baseline measured in the same run: JSON.parse / JSON.stringify of the same data.
//
//   npm run build && node bench/scoring/run.mjs
//
// Writes bench/results/scoring.json. Ratios > 1 mean our codec is slower than the bare baseline,
// which does less (no MLflow formats, no schema casting, JS number formatting instead of Python's).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from '../support/machine.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { Utf8Array, encodePredictions, parseScoringRequest, parseSchema, tensor, tensorBatch } = await import(join(ROOT, 'packages/format/dist/index.js'));

/** Median milliseconds per call over `runs` calls after a warm-up. */
async function time(fn, runs = 40) {
  for (let i = 0; i < 5; i++) await fn();
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

const cases = [];
async function compare(name, ours, baseline) {
  const a = await time(ours);
  const b = await time(baseline);
  const row = { case: name, ours_ms: +a.toFixed(3), baseline_ms: +b.toFixed(3), ratio: +(a / b).toFixed(2) };
  cases.push(row);
  console.log(`${name.padEnd(48)} ours ${row.ours_ms.toFixed(2).padStart(7)} ms   baseline ${row.baseline_ms.toFixed(2).padStart(7)} ms   x${row.ratio}`);
}

// encode: a 4096×3 float32 tensor (e.g. class probabilities)
const f32 = new Float32Array(4096 * 3).map((_, i) => Math.sin(i) * 10);
const nested = Array.from({ length: 4096 }, (_, r) => Array.from(f32.subarray(r * 3, r * 3 + 3)));
await compare(
  'encode 4096x3 float32 tensor',
  () => encodePredictions(tensorBatch([tensor(null, 'float32', [4096, 3], f32)])),
  () => JSON.stringify({ predictions: nested }),
);

// encode: 10,000 rows × 4 columns as records
const n = 10_000;
const cols = {
  kind: 'columns',
  numRows: n,
  columns: [
    { name: 'score', dtype: 'float64', values: new Float64Array(n).map((_, i) => i / 7) },
    { name: 'id', dtype: 'int64', values: new BigInt64Array(n).map((_, i) => BigInt(i) * 1000003n) },
    { name: 'label', dtype: 'str', values: Utf8Array.fromStrings(Array.from({ length: n }, (_, i) => `class_${i % 10}`)) },
    { name: 'flag', dtype: 'bool', values: new Uint8Array(n).map((_, i) => i % 2) },
  ],
};
const records = Array.from({ length: n }, (_, i) => ({ score: i / 7, id: i * 1000003, label: `class_${i % 10}`, flag: i % 2 === 1 }));
await compare(
  'encode 10,000x4 columns as records',
  () => encodePredictions(cols),
  () => JSON.stringify({ predictions: records }),
);

// parse: dataframe_split 10,000×4 with a column signature
const schema = parseSchema(
  '[{"type": "double", "name": "a", "required": true}, {"type": "long", "name": "b", "required": true}, {"type": "string", "name": "c", "required": true}, {"type": "boolean", "name": "d", "required": true}]',
);
const body = new TextEncoder().encode(
  JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: Array.from({ length: n }, (_, i) => [i / 3, i, `s${i % 50}`, i % 2 === 0]) } }),
);
const decoder = new TextDecoder();
await compare(
  'parse dataframe_split 10,000x4 with schema',
  () => parseScoringRequest(body, 'application/json', schema),
  () => JSON.parse(decoder.decode(body)),
);

// parse: inputs 4096×3 float32 tensor
const tSchema = parseSchema('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]');
const tBody = new TextEncoder().encode(JSON.stringify({ inputs: nested }));
await compare(
  'parse inputs 4096x3 float32 tensor',
  () => parseScoringRequest(tBody, 'application/json', tSchema),
  () => JSON.parse(decoder.decode(tBody)),
);

const out = join(ROOT, 'bench/results/scoring.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(
  out,
  `${JSON.stringify({ benchmark: 'scoring codec vs JSON.parse/JSON.stringify', command: 'node bench/scoring/run.mjs', machine: machineInfo(), cases }, null, 2)}\n`,
);
console.log(`wrote ${out}`);
