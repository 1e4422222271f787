// Round-trip time of the python_function bridge vs the same sklearn model called in-process in
// Python on the same data (bench/python-bridge/inprocess.py, run in the same benchmark run), for
// the two sklearn fixtures: iris_sklearn (almost no compute) and churn_pipeline (a real pipeline).
//
//   npm run build && node bench/python-bridge/run.mjs [--model NAME] [--python /usr/bin/python3] [--spin-us N] [--malloc tuned|default]
//
// --model NAME runs one fixture. Bridge time = the runner's prepare + predict (schema enforcement, encoding to the
// wire, the worker building the DataFrame, predict, the result back to a batch). The in-process
// baseline runs in its own Python process, in blocks alternating with bridge blocks (A B B A …),
// because this VM's speed drifts by tens of percent within minutes: overhead = the median over
// rounds of (bridge median − in-process median) within the round. Also records page faults per
// bridge call (Node and worker) and the machine's cost of one page fault.
// Writes bench/results/python-bridge.json. Targets: overhead ≤ 0.3 ms at 1 row, ≤ 15 % at 10,000.
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mallocMode, rerunWithTunedMalloc } from '../support/malloc.mjs';
import { machineInfo } from '../support/machine.mjs';
import { benchModels } from './data.mjs';

rerunWithTunedMalloc();

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5');
const at = process.argv.indexOf('--python');
const PYTHON = at > 0 ? process.argv[at + 1] : (process.env.MLMODEL_PYTHON ?? '/usr/bin/python3');
const spinAt = process.argv.indexOf('--spin-us');
const SPIN = spinAt > 0 ? { replySpinUs: Number(process.argv[spinAt + 1]), idleSpinUs: Number(process.argv[spinAt + 1]) } : {};
const SIZES = [1, 100, 10_000];
/** Rounds of (in-process block, bridge block), alternating which goes first; each block lasts about BLOCK_MS. */
const ROUNDS = 8;
const BLOCK_MS = 600;

const format = await import(join(ROOT, 'packages/format/dist/index.js'));
const { openModelDir } = format;
const { createRegistry } = await import(join(ROOT, 'packages/flavors/dist/index.js'));
const { predictPrepared } = await import(join(ROOT, 'bench/support/predict-path.mjs'));

const only = process.argv.indexOf('--model');
const MODELS = benchModels(format).filter((m) => only < 0 || m.name === process.argv[only + 1]);

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)];
const median = (xs) => quantile(xs, 0.5);

/** The in-process baseline (inprocess.py) as a child answering "ROWS CALLS" lines with per-call seconds. */
function startBaseline(name, dir) {
  const child = spawn(PYTHON, [join(ROOT, 'bench/python-bridge/inprocess.py'), name, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const ready = next();
  return {
    ready,
    async time(rows, calls) {
      const answer = next();
      child.stdin.write(`${rows} ${calls}\n`);
      return (await answer).map((s) => s * 1000);
    },
    close() {
      child.stdin.end();
    },
  };
}

/** Minor page faults of a process so far (/proc/PID/stat field 10). */
function minorFaults(pid) {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[7]);
}

/** Page faults during bridge blocks, Node's and the worker's, summed per case. */
const faults = { calls: 0, node: 0, worker: 0 };

async function timeBridge(model, batch, calls) {
  const [node0, worker0] = [minorFaults(process.pid), minorFaults(model.pids[0])];
  const times = await timeCalls(model, batch, calls);
  faults.calls += calls;
  faults.node += minorFaults(process.pid) - node0;
  faults.worker += minorFaults(model.pids[0]) - worker0;
  return times;
}

async function timeCalls(model, batch, calls) {
  const times = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await predictPrepared(model, batch, null);
    times.push(performance.now() - t0);
  }
  return times;
}

const cases = [];
for (const spec of MODELS) {
  const dir = join(FIXTURES, spec.name);
  const baseline = startBaseline(spec.name, dir);
  await baseline.ready;
  const model = await createRegistry().load(await openModelDir(dir), { flavor: 'python_function', options: { python: PYTHON, workers: 1, ...SPIN } });
  try {
    for (const n of SIZES) {
      const batch = spec.batch(n);
      // warm both, then size the blocks so one takes about BLOCK_MS
      await baseline.time(n, 20);
      const warm = await timeCalls(model, batch, 20);
      Object.assign(faults, { calls: 0, node: 0, worker: 0 });
      const calls = Math.max(5, Math.round(BLOCK_MS / median(warm)));
      const bridge = [];
      const inproc = [];
      const roundOverheads = [];
      for (let r = 0; r < ROUNDS; r++) {
        // A B B A: each round's two blocks see the same machine on average
        const first = r % 2 === 0;
        const a = first ? await baseline.time(n, calls) : await timeBridge(model, batch, calls);
        const b = first ? await timeBridge(model, batch, calls) : await baseline.time(n, calls);
        const [py, br] = first ? [a, b] : [b, a];
        inproc.push(...py);
        bridge.push(...br);
        roundOverheads.push(median(br) - median(py));
      }
      const bridgeMs = median(bridge);
      const pyMs = median(inproc);
      const overheadMs = median(roundOverheads);
      const row = {
        model: spec.name,
        model_note: spec.note,
        rows: n,
        bridge_median_ms: +bridgeMs.toFixed(4),
        bridge_p10_ms: +quantile(bridge, 0.1).toFixed(4),
        bridge_p90_ms: +quantile(bridge, 0.9).toFixed(4),
        python_inprocess_median_ms: +pyMs.toFixed(4),
        python_inprocess_p10_ms: +quantile(inproc, 0.1).toFixed(4),
        python_inprocess_p90_ms: +quantile(inproc, 0.9).toFixed(4),
        overhead_ms: +overheadMs.toFixed(4),
        overhead_pct_of_model: +((100 * overheadMs) / pyMs).toFixed(1),
        round_overheads_ms: roundOverheads.map((x) => +x.toFixed(4)),
        samples_each: bridge.length,
        page_faults_per_call: { node: +(faults.node / faults.calls).toFixed(2), worker: +(faults.worker / faults.calls).toFixed(2) },
      };
      row.target = n === 1 ? 'overhead <= 0.3 ms' : n >= 10_000 ? 'overhead <= 15% of model time' : 'reported';
      row.meets_target = n === 1 ? overheadMs <= 0.3 : n >= 10_000 ? overheadMs <= 0.15 * pyMs : null;
      cases.push(row);
      console.log(
        `${spec.name.padEnd(15)} ${String(n).padStart(6)} rows: bridge ${bridgeMs.toFixed(3)} ms  in-process ${pyMs.toFixed(3)} ms  ` +
          `overhead ${overheadMs.toFixed(3)} ms (${row.overhead_pct_of_model} %)  faults/call ${row.page_faults_per_call.node}+${row.page_faults_per_call.worker}  ${row.meets_target === null ? '' : row.meets_target ? 'ok' : 'MISSED'}`,
      );
    }
  } finally {
    await model.close();
    baseline.close();
  }
}

/** µs per first touch of a fresh anonymous page (what a freshly allocated buffer costs per 4 KiB). */
function pageFaultMicros() {
  const script = `
import mmap, statistics, time
def run(pages):
    m = mmap.mmap(-1, pages * 4096)
    t0 = time.perf_counter()
    for i in range(0, pages * 4096, 4096):
        m[i] = 1
    dt = time.perf_counter() - t0
    m.close()
    return dt / pages * 1e6
print(statistics.median(run(64) for _ in range(101)))`;
  return +Number(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' })).toFixed(2);
}

const out = join(ROOT, 'bench/results/python-bridge.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(
  out,
  `${JSON.stringify(
    {
      benchmark: 'python_function bridge round trip vs in-process sklearn predict',
      command: 'node bench/python-bridge/run.mjs',
      machine: machineInfo({
        python: PYTHON,
        malloc: mallocMode(),
        page_fault_us: pageFaultMicros(),
        loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
      }),
      cases,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
