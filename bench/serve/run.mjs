// HTTP throughput and latency of `mlmodel serve` against a bare fastify route measured in the
// same run, with autocannon (programmatic API) on this machine.
//
//   npm run build && node bench/serve/run.mjs [--quick] [--python /usr/bin/python3]
//
// Every server runs in its own child process (own process group, free port, ready when /ping
// answers 200), is checked once for a correct answer, then loaded by autocannon from this process:
//   ceiling        bench/serve/ceiling-server.mjs: fastify 5, no logging, fixed `{"predictions": [0]}`
//   onnx route     bench/serve/onnx-route-server.mjs: fastify 5 + onnxruntime-node's `run` and nothing
//                  else (no validation, logging, limits, metrics), 1 process and as many as the
//                  defaults start (the server's own planner): what any ONNX server must spend
//   defaults       `mlmodel serve -m iris_onnx --port P` exactly as a user starts it: no tuning flag, not
//                  even --log-level (the access log goes to a file, as a process manager would keep it)
//   iris_onnx      `mlmodel serve --log-level warn`, 1-row JSON `{"inputs": [[...]]}`, --workers 1 and 2,
//                  adaptive batching at zero delay (--max-batch-size 32 --max-batch-delay-ms 0:
//                  requests that arrive while the model runs share its next call), and --workers 2
//                  with that batching and one onnxruntime thread per worker
//   iris_sklearn   python_function over the Python bridge, 1-row dataframe_split, batching on/off,
//                  --python-workers 1 and 2, at 64 connections
// The ceiling and the onnx servers alternate A B C C B A (python servers likewise) and medians are
// reported, so drift and other load on the machine hit every case alike. Each case is then run at
// half its max req/s for latency under moderate load, twice: autocannon overallRate (which sends
// each connection's per-second quota in a burst, so its latency is close to full load) and an
// evenly paced open-loop client (latency from each request's due time). Cold start: spawn
// `mlmodel serve -m iris_onnx` → first /ping 200, polled every 5 ms, median of 5.
// Latency percentiles come from every 2xx response time (ms, not autocannon's 1 ms-resolution
// histogram). Any non-2xx, error or timeout marks the case FAILED. Writes bench/results/serve.json.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { machineInfo } from '../support/machine.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'packages/cli/bin/mlmodel.js');
const CEILING = join(ROOT, 'bench/serve/ceiling-server.mjs');
const ONNX_ROUTE = join(ROOT, 'bench/serve/onnx-route-server.mjs');
const FIXTURES = join(ROOT, '../shared/fixtures/mlflow-3.5');
const IRIS_ONNX = join(FIXTURES, 'iris_onnx');
const IRIS_SKLEARN = join(FIXTURES, 'iris_sklearn');
for (const f of [join(ROOT, 'packages/cli/dist/main.js'), join(ROOT, 'packages/serve/dist/index.js')]) {
  if (!existsSync(f)) {
    console.error(`${f} is missing: build first with  npm run build`);
    process.exit(1);
  }
}

const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : dflt;
};
const QUICK = argv.includes('--quick');
const SKIP_PYTHON = argv.includes('--skip-python');
const PYTHON = flag('--python', process.env.MLMODEL_PYTHON ?? '/usr/bin/python3');
const DURATION_S = Number(flag('--duration', QUICK ? 3 : 10));
const WARMUP_S = QUICK ? 1 : 2;
const PY_DURATION_S = QUICK ? 3 : 5;
const PY_WARMUP_S = 1;
const HALF_LOAD_S = QUICK ? 2 : 4;
const CONNECTIONS = Number(flag('--connections', 32));
const PY_CONNECTIONS = 64;
const COLD_STARTS = 5;
const BATCH_SIZE = 64;
const BATCH_DELAY_MS = 2;

const require = createRequire(import.meta.url);
const version = (pkg) => JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version;

const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')).cases;
const ONNX_BODY = JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] });
const SKLEARN_BODY = JSON.stringify({
  dataframe_split: { columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], data: [[5.1, 3.5, 1.4, 0.2]] },
});

// ---------------------------------------------------------------- child processes

/** Children still running, killed (whole process group) however this script ends. */
const children = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const c of children) killGroup(c, 'SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping servers`);
    Promise.all([...children].map(stop)).finally(() => process.exit(130));
  });
}

/** SIGTERM the child's process group (cluster workers, Python workers), SIGKILL after 3 s. */
async function stop(child) {
  if (!children.has(child)) return;
  const exited = new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
  killGroup(child, 'SIGKILL'); // stragglers in the group (Python workers of a killed server)
  children.delete(child);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Spawn in a new process group, keeping the tail of its output for error messages. With
 * `stdoutFile`, stdout goes to that file instead (a server's access log, as a process manager keeps it).
 */
function spawnServer(args, { stdoutFile } = {}) {
  const out = stdoutFile ? openSync(stdoutFile, 'w') : 'pipe';
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ['ignore', out, 'pipe'] });
  if (stdoutFile) closeSync(out);
  children.add(child);
  child.output = '';
  const keep = (d) => {
    child.output = (child.output + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', () => children.delete(child));
  return child;
}

/** One HTTP request; resolves { status, body } or rejects (connection refused…). */
function request(url, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, agent: false, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Poll GET /ping every `pollMs` until 200; returns ms since `t0`. Fails if the child exits first. */
async function waitForPing(child, base, { t0 = performance.now(), pollMs = 5, timeoutMs = 60_000 } = {}) {
  let firstAnswerMs = null;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before /ping answered 200:\n${child.output}`);
    if (performance.now() - t0 > timeoutMs) throw new Error(`no /ping 200 after ${timeoutMs} ms:\n${child.output}`);
    try {
      const r = await request(`${base}/ping`);
      firstAnswerMs ??= performance.now() - t0;
      if (r.status === 200) return { readyMs: performance.now() - t0, listeningMs: firstAnswerMs };
    } catch {
      // not listening yet
    }
    await sleep(pollMs);
  }
}

/**
 * Start a server and wait until it is ready: /ping 200 and, for mlmodel, its "serving" line
 * (with --workers N that line waits for every worker, /ping only for the one that answers).
 */
async function startServer(name, args, { mlmodel, stdoutFile }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawnServer([...args, ...(mlmodel ? ['--port', String(port)] : [String(port)])], { stdoutFile });
  const t0 = performance.now();
  const announced = mlmodel
    ? new Promise((resolve) => {
        const check = () => child.output.includes('mlmodel: serving') && resolve();
        child.stderr.on('data', check);
        check();
      })
    : Promise.resolve();
  await waitForPing(child, base, { t0 });
  await Promise.race([announced, sleep(60_000).then(() => Promise.reject(new Error(`${name}: no "serving" line:\n${child.output}`)))]);
  return { name, child, base, url: `${base}/invocations`, startupMs: Math.round(performance.now() - t0) };
}

// ---------------------------------------------------------------- correctness

function closeTo(a, b) {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
}

const checks = {
  ceiling: (body) => body === '{"predictions": [0]}',
  iris_onnx: (body) => {
    const want = golden.iris_onnx[0].predictions;
    const got = JSON.parse(body).predictions;
    return got.label.length === 1 && got.label[0] === want.label[0] && got.probabilities[0].every((p, i) => closeTo(p, want.probabilities[0][i]));
  },
  iris_sklearn: (body) => {
    const got = JSON.parse(body).predictions;
    return got.length === 1 && got[0] === golden.iris_sklearn[0].predictions[0];
  },
};

/** POST one request and compare the answer with the fixture's golden output. */
async function verify(server, body, check) {
  const r = await request(server.url, { method: 'POST', body });
  if (r.status !== 200 || !check(r.body)) throw new Error(`${server.name}: wrong answer ${r.status} ${r.body.slice(0, 300)}`);
  return r.body;
}

// ---------------------------------------------------------------- load

const CLK_TCK = 100;

/** CPU seconds used so far by every process in `pgid` (Linux /proc; null elsewhere). */
function groupCpuSeconds(pgid) {
  if (process.platform !== 'linux') return null;
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / CLK_TCK;
}

function percentile(sorted, q) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One autocannon run (after its warmup); latencies are every 2xx response time in ms. */
async function load(server, body, { connections, duration, warmup, overallRate }) {
  const latencies = [];
  const opts = {
    url: server.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration,
    ...(overallRate ? { overallRate } : {}),
    ...(warmup ? { warmup: { connections, duration: warmup } } : {}),
  };
  const run = autocannon(opts);
  run.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  // CPU is read around the whole run (warmup included), so per request it is over all of them
  const cpu0 = groupCpuSeconds(server.child.pid);
  const r = await run;
  const cpu1 = groupCpuSeconds(server.child.pid);
  latencies.sort((a, b) => a - b);
  const warmupRequests = r.warmup ? r.warmup.requests.total : 0;
  const problems = r.non2xx + r.errors + r.timeouts;
  return {
    req_per_s: Math.round(r['2xx'] / r.duration),
    requests: r.requests.total,
    duration_s: r.duration,
    p50_ms: round3(percentile(latencies, 0.5)),
    p99_ms: round3(percentile(latencies, 0.99)),
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    status_codes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
    server_cpu_us_per_request: cpu0 === null ? null : Math.round(((cpu1 - cpu0) * 1e6) / (r.requests.total + warmupRequests)),
    ok: problems === 0,
  };
}

/**
 * Open-loop load at an even pace: request k is due at t0 + k/rate and its latency counts from
 * then, over at most `connections` keep-alive sockets (autocannon's overallRate instead lets each
 * connection send its per-second quota in a burst at the start of every second).
 */
async function paced(server, body, { rate, duration, connections }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  let non2xx = 0;
  let errors = 0;
  let pending = 0;
  let maxLagMs = 0;
  const total = Math.round(rate * duration);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  const t0 = performance.now();
  await new Promise((resolve) => {
    let sent = 0;
    const finish = () => {
      pending--;
      if (sent === total && pending === 0) resolve();
    };
    const fire = (due) => {
      pending++;
      const req = http.request(server.url, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode >= 200 && res.statusCode < 300) latencies.push(performance.now() - due);
          else non2xx++;
          finish();
        });
      });
      req.on('error', () => {
        errors++;
        finish();
      });
      req.end(body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && t0 + (sent * 1000) / rate <= now) {
        const due = t0 + (sent++ * 1000) / rate;
        maxLagMs = Math.max(maxLagMs, now - due);
        fire(due);
      }
      if (sent < total) setTimeout(tick, 1);
      else if (pending === 0) resolve();
    };
    tick();
  });
  agent.destroy();
  latencies.sort((a, b) => a - b);
  // this client costs more per request than autocannon: past some rate it cannot send on time
  // (sockets all busy, or its own event loop late), and its latencies then measure itself
  const achieved = latencies.length / ((performance.now() - t0) / 1000);
  const clientLimited = maxLagMs > 20 || achieved < 0.95 * rate;
  if (clientLimited)
    return {
      rate,
      achieved_req_per_s: Math.round(achieved),
      client_limited: true,
      max_send_lag_ms: round3(maxLagMs),
      p50_ms: null,
      p99_ms: null,
      non2xx,
      errors,
      ok: non2xx + errors === 0,
    };
  return {
    rate,
    client_limited: false,
    max_send_lag_ms: round3(maxLagMs),
    achieved_req_per_s: Math.round(latencies.length / ((performance.now() - t0) / 1000)),
    p50_ms: round3(percentile(latencies, 0.5)),
    p99_ms: round3(percentile(latencies, 0.99)),
    non2xx,
    errors,
    ok: non2xx + errors === 0,
  };
}

const round3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Run the cases in the order A B … Z Z … B A, `rounds` times; returns each case's runs.
 * Every run is followed by a short pause so sockets in TIME_WAIT and GC do not leak into the next.
 */
async function alternate(cases, settings, rounds = 1) {
  const runs = new Map(cases.map((c) => [c.name, []]));
  const order = [];
  for (let r = 0; r < rounds; r++) order.push(...cases, ...[...cases].reverse());
  for (const c of order) {
    const res = await load(c.server, c.body, { ...settings, connections: c.connections ?? settings.connections });
    runs.get(c.name).push(res);
    console.log(
      `  ${c.name.padEnd(28)} ${String(res.req_per_s).padStart(6)} req/s  p50 ${fmtMs(res.p50_ms)}  p99 ${fmtMs(res.p99_ms)}${res.ok ? '' : `  FAILED (non-2xx ${res.non2xx}, errors ${res.errors}, timeouts ${res.timeouts})`}`,
    );
    await sleep(300);
  }
  return runs;
}

const fmtMs = (ms) => (ms === null ? '-' : `${ms.toFixed(2)} ms`).padStart(9);

/** The case's summary: medians over its runs, then one run at half that rate for latency. */
async function summarize(c, runs, settings) {
  const maxRps = median(runs.map((r) => r.req_per_s));
  const rate = Math.max(1, Math.round(maxRps / 2));
  const connections = c.connections ?? settings.connections;
  const half = await load(c.server, c.body, { connections, duration: HALF_LOAD_S, warmup: 1, overallRate: rate });
  const even = await paced(c.server, c.body, { rate, duration: HALF_LOAD_S, connections });
  const failed = [...runs, half, even].filter((r) => !r.ok);
  return {
    case: c.name,
    command: c.command,
    connections: c.connections ?? settings.connections,
    duration_s: settings.duration,
    warmup_s: settings.warmup,
    req_per_s: Math.round(maxRps),
    p50_ms: round3(median(runs.map((r) => r.p50_ms))),
    p99_ms: round3(median(runs.map((r) => r.p99_ms))),
    server_cpu_us_per_request: runs[0].server_cpu_us_per_request === null ? null : Math.round(median(runs.map((r) => r.server_cpu_us_per_request))),
    half_load: {
      rate,
      pacing: 'autocannon overallRate (each connection sends its quota at the start of every second)',
      achieved_req_per_s: half.req_per_s,
      p50_ms: half.p50_ms,
      p99_ms: half.p99_ms,
      ok: half.ok,
    },
    half_load_paced: { ...even, pacing: "open loop, evenly spaced, latency from each request's due time (node:http keep-alive client)" },
    startup_ms: c.server.startupMs,
    response: c.response,
    runs,
    failed: failed.length > 0,
    failures: failed.map((r) => ({ non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts ?? 0, status_codes: r.status_codes ?? null })),
  };
}

// ---------------------------------------------------------------- the benchmark

const loadBefore = os.loadavg();
const results = [];
const started = performance.now();
const mlmodel = (model, ...rest) => [CLI, 'serve', '-m', model, '--log-level', 'warn', ...rest];
const DEFAULTS_LOG = join(os.tmpdir(), `mlmodel-bench-defaults-${process.pid}.log`);
process.on('exit', () => rmSync(DEFAULTS_LOG, { force: true }));
const shown = (args) =>
  `mlmodel ${args
    .slice(1)
    .map((a) => a.replace(`${FIXTURES}/`, '../shared/fixtures/mlflow-3.5/'))
    .join(' ')}`;

async function phase(title, specs, settings) {
  console.log(
    `\n${title}: ${settings.duration} s runs after ${settings.warmup} s warmup, ${specs.map((s) => s.connections ?? settings.connections).join('/')} connections`,
  );
  const cases = [];
  try {
    for (const s of specs) {
      const server = await startServer(s.name, s.args, { mlmodel: s.mlmodel, stdoutFile: s.stdoutFile });
      const response = await verify(server, s.body, s.check);
      console.log(`  started ${s.name} in ${server.startupMs} ms, answer ok: ${response}`);
      cases.push({ ...s, server, response, command: s.mlmodel ? shown(s.args) : `node ${s.args.map((a) => a.replace(ROOT, '')).join(' ')}` });
    }
    const runs = await alternate(cases, settings);
    const out = [];
    for (const c of cases) out.push(await summarize(c, runs.get(c.name), settings));
    return out;
  } finally {
    await Promise.all(cases.map((c) => stop(c.server.child)));
  }
}

const onnxSettings = { duration: DURATION_S, warmup: WARMUP_S, connections: CONNECTIONS };
// the defaults' process count on this machine, as `mlmodel serve` decides it
// imported here, after the check that the packages are built (a static import would fail first, unexplained)
const { planProcesses } = await import('@mlmodel/serve');
const DEFAULT_PROCESSES = (await planProcesses([{ name: 'iris_onnx', path: IRIS_ONNX }])).workers;
const ROUTE_1 = 'onnx route (fastify + onnxruntime), 1 process';
// the defaults without automatic batching: what it adds
const NO_AUTO_BATCHING = 'iris_onnx defaults, batching off (--max-batch-size 1)';
const ROUTE_N = `onnx route (fastify + onnxruntime), ${DEFAULT_PROCESSES} processes`;
const routeCases = [
  { name: ROUTE_1, args: [ONNX_ROUTE], mlmodel: false, body: ONNX_BODY, check: checks.iris_onnx },
  ...(DEFAULT_PROCESSES > 1
    ? [{ name: ROUTE_N, args: [ONNX_ROUTE, '--processes', String(DEFAULT_PROCESSES)], mlmodel: false, body: ONNX_BODY, check: checks.iris_onnx }]
    : []),
];
results.push(
  ...(await phase(
    'ceiling vs iris_onnx',
    [
      { name: 'ceiling (bare fastify)', args: [CEILING], mlmodel: false, body: ONNX_BODY, check: checks.ceiling },
      ...routeCases,
      { name: 'iris_onnx defaults', args: [CLI, 'serve', '-m', IRIS_ONNX], mlmodel: true, stdoutFile: DEFAULTS_LOG, body: ONNX_BODY, check: checks.iris_onnx },
      {
        name: NO_AUTO_BATCHING,
        args: [CLI, 'serve', '-m', IRIS_ONNX, '--max-batch-size', '1'],
        mlmodel: true,
        stdoutFile: DEFAULTS_LOG,
        body: ONNX_BODY,
        check: checks.iris_onnx,
      },
      { name: 'iris_onnx --workers 1', args: mlmodel(IRIS_ONNX, '--workers', '1'), mlmodel: true, body: ONNX_BODY, check: checks.iris_onnx },
      { name: 'iris_onnx --workers 2', args: mlmodel(IRIS_ONNX, '--workers', '2'), mlmodel: true, body: ONNX_BODY, check: checks.iris_onnx },
      {
        name: 'iris_onnx --workers 1, batching (delay 0)',
        args: mlmodel(IRIS_ONNX, '--workers', '1', '--max-batch-size', '32', '--max-batch-delay-ms', '0'),
        mlmodel: true,
        body: ONNX_BODY,
        check: checks.iris_onnx,
      },
      {
        name: 'iris_onnx --workers 2, batching (delay 0)',
        args: mlmodel(IRIS_ONNX, '--workers', '2', '--max-batch-size', '32', '--max-batch-delay-ms', '0', '--flavor-option', 'intraOpNumThreads=1'),
        mlmodel: true,
        body: ONNX_BODY,
        check: checks.iris_onnx,
      },
    ],
    onnxSettings,
  )),
);

const pySettings = { duration: PY_DURATION_S, warmup: PY_WARMUP_S, connections: PY_CONNECTIONS };
const py = (workers, batching) =>
  mlmodel(
    IRIS_SKLEARN,
    '--python',
    PYTHON,
    '--python-workers',
    String(workers),
    ...(batching ? ['--max-batch-size', String(BATCH_SIZE), '--max-batch-delay-ms', String(BATCH_DELAY_MS)] : []),
  );
const pyCase = (workers, batching) => ({
  name: `iris_sklearn pw${workers} batch ${batching ? 'on' : 'off'}`,
  args: py(workers, batching),
  mlmodel: true,
  body: SKLEARN_BODY,
  check: checks.iris_sklearn,
});
if (!SKIP_PYTHON)
  results.push(
    ...(await phase('iris_sklearn (Python bridge), batching on vs off', [pyCase(1, false), pyCase(1, true), pyCase(2, false), pyCase(2, true)], pySettings)),
  );

// cold start: spawn → first /ping 200 (model loaded), polled every 5 ms
console.log(`\ncold start: mlmodel serve -m iris_onnx → first /ping 200, ${COLD_STARTS} times`);
const cold = [];
for (let i = 0; i < COLD_STARTS; i++) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawnServer([...mlmodel(IRIS_ONNX), '--port', String(port)]);
  try {
    const t = await waitForPing(child, `http://127.0.0.1:${port}`, { t0, pollMs: 5 });
    cold.push(t);
    console.log(`  listening after ${t.listeningMs.toFixed(0)} ms, /ping 200 after ${t.readyMs.toFixed(0)} ms`);
  } finally {
    await stop(child);
  }
}
const coldStart = {
  command: `${shown(mlmodel(IRIS_ONNX))} --port PORT`,
  runs_ms: cold.map((t) => Math.round(t.readyMs)),
  listening_runs_ms: cold.map((t) => Math.round(t.listeningMs)),
  median_ms: Math.round(median(cold.map((t) => t.readyMs))),
  listening_median_ms: Math.round(median(cold.map((t) => t.listeningMs))),
};

// ---------------------------------------------------------------- targets, table, JSON

const byName = new Map(results.map((r) => [r.case, r]));
const ceiling = byName.get('ceiling (bare fastify)');
for (const r of results) r.ratio_vs_ceiling = Math.round((r.req_per_s / ceiling.req_per_s) * 1000) / 1000;
const defaults = byName.get('iris_onnx defaults');
const onnx = ['iris_onnx --workers 1', 'iris_onnx --workers 2', 'iris_onnx --workers 1, batching (delay 0)', 'iris_onnx --workers 2, batching (delay 0)'].map(
  (n) => byName.get(n),
);
const bestOnnx = onnx.reduce((a, b) => (b.ratio_vs_ceiling > a.ratio_vs_ceiling ? b : a));
// what mlmodel keeps of a route that only calls the model, with as many processes
const route1 = byName.get(ROUTE_1);
const routeN = byName.get(DEFAULT_PROCESSES > 1 ? ROUTE_N : ROUTE_1);
const vsRoute = (r, route) => Math.round((r.req_per_s / route.req_per_s) * 1000) / 1000;
const onnxRoute = {
  about:
    'context, no target: req/s of mlmodel / req/s of a bare fastify route that only calls onnxruntime (bench/serve/onnx-route-server.mjs), same process count',
  route_1_process_vs_ceiling: route1.ratio_vs_ceiling,
  [`route_${DEFAULT_PROCESSES}_processes_vs_ceiling`]: routeN.ratio_vs_ceiling,
  defaults_vs_route: vsRoute(defaults, routeN),
  workers_1_vs_route: vsRoute(onnx[0], route1),
  ...(DEFAULT_PROCESSES === 2 ? { workers_2_vs_route: vsRoute(onnx[1], routeN) } : {}),
  defaults_batching_off_vs_route: vsRoute(byName.get(NO_AUTO_BATCHING), routeN),
  defaults_vs_defaults_batching_off: vsRoute(defaults, byName.get(NO_AUTO_BATCHING)),
};
const pyPairs = (SKIP_PYTHON ? [] : [1, 2]).map((w) => {
  const on = byName.get(`iris_sklearn pw${w} batch on`);
  const off = byName.get(`iris_sklearn pw${w} batch off`);
  const ratio = Math.round((on.req_per_s / off.req_per_s) * 100) / 100;
  return {
    python_workers: w,
    batch_on_req_per_s: on.req_per_s,
    batch_off_req_per_s: off.req_per_s,
    on_off_ratio: ratio,
    meets_target: on.req_per_s >= 2000 && ratio >= 3 && !on.failed && !off.failed,
  };
});
const targets = {
  iris_onnx_defaults_vs_ceiling: {
    target: '`mlmodel serve -m iris_onnx` with no tuning flags: req/s >= 0.60 x ceiling',
    ratio: defaults.ratio_vs_ceiling,
    met: defaults.ratio_vs_ceiling >= 0.6 && !defaults.failed,
  },
  iris_onnx_vs_ceiling: {
    target: 'iris_onnx req/s >= 0.60 x ceiling (best of --workers 1, --workers 2, each also with --max-batch-size 32 at delay 0)',
    workers_1: onnx[0].ratio_vs_ceiling,
    workers_2: onnx[1].ratio_vs_ceiling,
    workers_1_batching_delay_0: onnx[2].ratio_vs_ceiling,
    workers_2_batching_delay_0: onnx[3].ratio_vs_ceiling,
    best: bestOnnx.case,
    met: bestOnnx.ratio_vs_ceiling >= 0.6 && !bestOnnx.failed,
  },
  ...(SKIP_PYTHON
    ? {}
    : {
        iris_sklearn_batching: {
          target: 'batching on >= 2000 req/s and on/off >= 3x (per --python-workers)',
          by_python_workers: pyPairs,
          met: pyPairs.some((p) => p.meets_target),
        },
      }),
  cold_start: { target: 'median spawn → /ping 200 < 1000 ms', median_ms: coldStart.median_ms, met: coldStart.median_ms < 1000 },
};

const cells = (r) => [
  r.case,
  String(r.connections),
  String(r.req_per_s),
  `${(r.ratio_vs_ceiling * 100).toFixed(0)}%`,
  r.p50_ms.toFixed(2),
  r.p99_ms.toFixed(2),
  String(r.half_load.rate),
  r.half_load.p50_ms?.toFixed(2) ?? '-',
  r.half_load.p99_ms?.toFixed(2) ?? '-',
  r.half_load_paced.p50_ms?.toFixed(2) ?? (r.half_load_paced.client_limited ? 'n/a*' : '-'),
  r.half_load_paced.p99_ms?.toFixed(2) ?? (r.half_load_paced.client_limited ? 'n/a*' : '-'),
  r.server_cpu_us_per_request === null ? '-' : String(r.server_cpu_us_per_request),
  r.failed ? 'FAILED' : 'ok',
];
const header = ['case', 'conns', 'req/s', 'vs ceil', 'p50 ms', 'p99 ms', '50% rate', 'p50@50%', 'p99@50%', 'paced p50', 'paced p99', 'cpu µs/req', 'status'];
const rows = [header, ...results.map(cells)];
const widths = header.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
console.log('');
for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
if (results.some((r) => r.half_load_paced.client_limited))
  console.log('n/a*: the paced client could not send at that rate on time (client-limited), see half_load_paced in the JSON');
console.log(
  `\ncold start (spawn → /ping 200): median ${coldStart.median_ms} ms [${coldStart.runs_ms.join(', ')}], listening after ${coldStart.listening_median_ms} ms`,
);
console.log(
  `iris_onnx defaults (no tuning flags) vs ceiling: ${defaults.ratio_vs_ceiling}  ${targets.iris_onnx_defaults_vs_ceiling.met ? 'ok' : 'MISSED'} (>= 0.60)`,
);
console.log(
  `iris_onnx vs ceiling: workers 1 ${onnx[0].ratio_vs_ceiling}, workers 2 ${onnx[1].ratio_vs_ceiling}, workers 1 + batching ${onnx[2].ratio_vs_ceiling}, workers 2 + batching ${onnx[3].ratio_vs_ceiling}  ${targets.iris_onnx_vs_ceiling.met ? 'ok' : 'MISSED'} (>= 0.60)`,
);
for (const p of pyPairs)
  console.log(
    `iris_sklearn python-workers ${p.python_workers}: batching ${p.batch_on_req_per_s} vs ${p.batch_off_req_per_s} req/s = ${p.on_off_ratio}x  ${p.meets_target ? 'ok' : 'MISSED'} (>= 2000 req/s, >= 3x)`,
  );
console.log(`cold start ${targets.cold_start.met ? 'ok' : 'MISSED'} (< 1000 ms)`);
console.log(
  `context: a route that only calls onnxruntime reaches ${route1.ratio_vs_ceiling} of the ceiling with 1 process, ${routeN.ratio_vs_ceiling} with ${DEFAULT_PROCESSES}; ` +
    `mlmodel defaults keep ${onnxRoute.defaults_vs_route} of it, --workers 1 keeps ${onnxRoute.workers_1_vs_route}; ` +
    `automatic batching: defaults ${onnxRoute.defaults_vs_defaults_batching_off}x the defaults with --max-batch-size 1 (${onnxRoute.defaults_batching_off_vs_route} of the route)`,
);
const failedCases = results.filter((r) => r.failed).map((r) => r.case);
if (failedCases.length) console.log(`FAILED (non-2xx responses, errors or timeouts): ${failedCases.join(', ')}`);

const result = {
  benchmark: 'mlmodel serve (fastify) HTTP throughput/latency vs a bare fastify route, autocannon',
  command: `node bench/serve/run.mjs${argv.length ? ` ${argv.join(' ')}` : ''}`,
  machine: machineInfo({
    autocannon: version('autocannon'),
    fastify: version('fastify'),
    python: PYTHON,
    loadavg_before: loadBefore.map((x) => Math.round(x * 100) / 100),
    loadavg_after: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }),
  method:
    'autocannon in this process, each server in its own child process; cases alternate A B C C B A, medians of runs; ' +
    'p50/p99 over every 2xx response time; half_load = overallRate at half the median max req/s; ' +
    'half_load_paced = evenly paced open loop at the same rate (null when the client could not keep the pace); ' +
    'server_cpu_us_per_request = CPU of the server process group (incl. Python workers) / requests, from /proc',
  total_s: Math.round((performance.now() - started) / 1000),
  targets,
  onnx_route: onnxRoute,
  cases: results,
  cold_start: coldStart,
  failed_cases: failedCases,
};
const out = join(ROOT, 'bench/results/serve.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${out} (${result.total_s} s)`);
if (failedCases.length || !Object.values(targets).every((t) => t.met)) process.exitCode = 1;
