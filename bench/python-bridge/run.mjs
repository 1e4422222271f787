// Round-trip time of the python_function bridge vs the same sklearn model called in-process in
// Python on the same data (bench/python-bridge/inprocess.py, run in the same benchmark run).
//
//   npm run build && node bench/python-bridge/run.mjs [--python /usr/bin/python3] [--spin-us N]
//
// Bridge time = predictParsed (schema enforcement + encode to the wire + Python worker builds the
// DataFrame + model.predict + result back to a batch). Overhead = bridge − in-process median.
// Writes bench/results/python-bridge.json. Targets: overhead ≤ 0.3 ms at 1 row, ≤ 15 % at 10,000.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from '../support/machine.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5', 'iris_sklearn');
const at = process.argv.indexOf('--python');
const PYTHON = at > 0 ? process.argv[at + 1] : (process.env.MLMODEL_PYTHON ?? '/usr/bin/python3');
const spinAt = process.argv.indexOf('--spin-us');
const SPIN = spinAt > 0 ? { replySpinUs: Number(process.argv[spinAt + 1]), idleSpinUs: Number(process.argv[spinAt + 1]) } : {};
const SIZES = [1, 100, 10_000];
const COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

const { column, columnBatch, openModelDir } = await import(join(ROOT, 'packages/format/dist/index.js'));
const { createRegistry, predictParsed } = await import(join(ROOT, 'packages/flavors/dist/index.js'));

function batchOf(n) {
  return columnBatch(
    COLUMNS.map((name, j) => column(name, 'float64', Float64Array.from({ length: n }, (_, i) => 4 + ((i * 7 + j * 13) % 40) / 10))),
    n,
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const baseline = JSON.parse(execFileSync(PYTHON, [join(ROOT, 'bench/python-bridge/inprocess.py'), MODEL, ...SIZES.map(String)], { encoding: 'utf8' }));

const model = await createRegistry().load(await openModelDir(MODEL), { flavor: 'python_function', options: { python: PYTHON, workers: 1, ...SPIN } });
const cases = [];
try {
  for (const n of SIZES) {
    const batch = batchOf(n);
    for (let i = 0; i < 50; i++) await predictParsed(model, batch, null);
    const times = [];
    const until = performance.now() + 4000;
    while (times.length < 50 || (performance.now() < until && times.length < 20_000)) {
      const t0 = performance.now();
      await predictParsed(model, batch, null);
      times.push(performance.now() - t0);
    }
    const bridgeMs = median(times);
    const pyMs = baseline[String(n)].median_s * 1000;
    const overheadMs = bridgeMs - pyMs;
    const row = {
      rows: n,
      bridge_median_ms: +bridgeMs.toFixed(4),
      python_inprocess_median_ms: +pyMs.toFixed(4),
      overhead_ms: +overheadMs.toFixed(4),
      ratio: +(bridgeMs / pyMs).toFixed(3),
      samples: times.length,
    };
    row.target = n === 1 ? 'overhead <= 0.3 ms' : n >= 10_000 ? 'overhead <= 15% of model time' : 'reported';
    row.meets_target = n === 1 ? overheadMs <= 0.3 : n >= 10_000 ? overheadMs <= 0.15 * pyMs : null;
    cases.push(row);
    console.log(
      `iris_sklearn ${String(n).padStart(6)} rows: bridge ${bridgeMs.toFixed(3)} ms  in-process ${pyMs.toFixed(3)} ms  ` +
        `overhead ${overheadMs.toFixed(3)} ms (x${row.ratio})  ${row.meets_target === null ? '' : row.meets_target ? 'ok' : 'MISSED'}`,
    );
  }
} finally {
  await model.close();
}

const out = join(ROOT, 'bench/results/python-bridge.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(
  out,
  `${JSON.stringify(
    {
      benchmark: 'python_function bridge round trip vs in-process sklearn predict',
      command: 'node bench/python-bridge/run.mjs',
      machine: machineInfo({ python: PYTHON, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) }),
      cases,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
