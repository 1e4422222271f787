// Where a python_function bridge round trip spends its time: runs a sklearn fixture (iris_sklearn by default) with
// MLMODEL_BRIDGE_TRACE set (Node and the worker timestamp each phase on the same monotonic clock)
// and prints the median of every phase-to-phase step per row count.
//
//   npm run build && node bench/python-bridge/trace.mjs [--model iris_sklearn|churn_pipeline] [--python /usr/bin/python3] [--spin-us N] [ROWS...]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mallocMode, rerunWithTunedMalloc } from '../support/malloc.mjs';
import { benchModels } from './data.mjs';

rerunWithTunedMalloc();

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--python');
const PYTHON = at >= 0 ? args.splice(at, 2)[1] : (process.env.MLMODEL_PYTHON ?? '/usr/bin/python3');
const spinAt = args.indexOf('--spin-us');
const spinUs = spinAt >= 0 ? Number(args.splice(spinAt, 2)[1]) : null;
const SPIN = spinUs === null ? {} : { replySpinUs: spinUs, idleSpinUs: spinUs };
const modelAt = args.indexOf('--model');
const MODEL_NAME = modelAt >= 0 ? args.splice(modelAt, 2)[1] : 'iris_sklearn';
const MODEL = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5', MODEL_NAME);
const SIZES = args.length > 0 ? args.map(Number) : [1, 10_000];
const CALLS = 2000;

const dir = await mkdtemp(join(os.tmpdir(), 'mlmodel-trace-'));
const traceFile = join(dir, 'trace.txt');
process.env.MLMODEL_BRIDGE_TRACE = traceFile; // before the flavors package reads it

const format = await import(join(ROOT, 'packages/format/dist/index.js'));
const { openModelDir } = format;
const { createRegistry } = await import(join(ROOT, 'packages/flavors/dist/index.js'));
const { predictPrepared } = await import(join(ROOT, 'bench/support/predict-path.mjs'));
const { bridgeTrace } = await import(join(ROOT, 'packages/flavors/dist/python/trace.js'));

const spec = benchModels(format).find((m) => m.name === MODEL_NAME);
if (!spec) throw new Error(`no bench data for ${MODEL_NAME}`);
const batchOf = spec.batch;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Phases in the order a request passes them; `call` is the start of the runner's prepare + predict (schema enforcement, encoding). */
const ORDER = [
  'node call',
  'node send',
  'node written',
  'py woke',
  'py read',
  'py built',
  'py predicted',
  'py encoded',
  'py replied',
  'node recv',
  'node read',
  'node decoded',
  'node done',
];

const model = await createRegistry().load(await openModelDir(MODEL), { flavor: 'python_function', options: { python: PYTHON, workers: 1, ...SPIN } });
const pid = model.pids[0];
const calls = {};
try {
  for (const n of SIZES) {
    const batch = batchOf(n);
    const marks = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = process.hrtime.bigint();
      await predictPrepared(model, batch, null);
      marks.push([t0, process.hrtime.bigint()]);
    }
    calls[n] = marks;
  }
} finally {
  await model.close();
}
bridgeTrace.flush();

// request ids are assigned in call order: 1 is LOAD, then one per predict
const byId = new Map();
for (const line of (await readFile(traceFile, 'utf8')).split('\n')) {
  const [side, p, id, phase, ns] = line.split(' ');
  if (!ns || Number(p) !== pid) continue;
  if (!byId.has(id)) byId.set(id, {});
  byId.get(id)[`${side} ${phase}`] = BigInt(ns);
}
let nextId = 2;
for (const n of SIZES) {
  const steps = new Map();
  const totals = [];
  for (const [t0, t1] of calls[n]) {
    const m = byId.get(String(nextId++)) ?? {};
    m['node call'] = t0;
    m['node done'] = t1;
    totals.push(Number(t1 - t0) / 1000);
    const present = ORDER.filter((k) => m[k] !== undefined);
    for (let k = 1; k < present.length; k++) {
      const key = `${present[k - 1]} → ${present[k]}`;
      if (!steps.has(key)) steps.set(key, []);
      steps.get(key).push(Number(m[present[k]] - m[present[k - 1]]) / 1000);
    }
  }
  console.log(`\n${n} rows, ${calls[n].length} calls (malloc ${mallocMode()}): round trip median ${median(totals).toFixed(1)} µs`);
  let sum = 0;
  for (const [key, xs] of steps) {
    const med = median(xs.slice(xs.length / 4)); // skip the warm-up quarter
    sum += med;
    console.log(`  ${key.padEnd(34)} ${med.toFixed(1).padStart(8)} µs`);
  }
  console.log(`  ${'sum of step medians'.padEnd(34)} ${sum.toFixed(1).padStart(8)} µs`);
}
await rm(dir, { recursive: true, force: true });
