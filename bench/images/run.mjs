// Container images built by `mlmodel build-docker`: size over their base image and time from
// `docker run` to the first /ping 200, against the base image itself measured in the same run.
//
//   npm run build && scripts/docker-setup.sh && scripts/make-base-images.sh && node bench/images/run.mjs [--rounds N]
//
// Images (built through @mlmodel/image-builder, as the CLI does; the build time is recorded):
//   iris_onnx     on mlmodel-local/node:20-bookworm-slim (targets: ≤ 120 MB over the base, /ping 200 ≤ 1.5 s)
//   iris_sklearn  on mlmodel-local/node-python:20-bookworm-sklearn (python_function: reported)
// Start time: the wall time from spawning `docker run -d --network host ...` to the first 200 from
// GET /ping, polled every 5 ms from this process: container creation, Node, the server, the model.
// Baseline, same run, same base image: `docker run` of a 3-line Node HTTP server answering 200, so
// "over baseline" is what mlmodel adds to a container that starts Node anyway. Cases alternate
// (A B B A ...) over the rounds; medians are reported. The ONNX image is also started with
// MLMODEL_WORKERS=1 (the default is one server process per core), and both images once with
// --network none --read-only, ready checked from inside (docker exec): they start with no network.
// Writes bench/results/images.json.
/* global fetch */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { machineInfo } from '../support/machine.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, '../shared/fixtures/mlflow-3.5');
const NODE_BASE = process.env.MLMODEL_NODE_BASE_IMAGE ?? 'mlmodel-local/node:20-bookworm-slim';
const PYTHON_BASE = process.env.MLMODEL_PYTHON_BASE_IMAGE ?? 'mlmodel-local/node-python:20-bookworm-sklearn';
const argv = process.argv.slice(2);
const ROUNDS = Number(argv[argv.indexOf('--rounds') + 1] || 5);

function docker(args, opts = {}) {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`docker ${args.join(' ')}: ${r.stderr || r.error}`);
  return r;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (bytes) => Math.round(bytes / 1e4) / 100;

/** `docker run -d` then poll /ping: ms from the spawn to the first 200. */
async function startTime(image, { env = {}, cmd = [] } = {}) {
  const port = await freePort();
  const envArgs = Object.entries({ ...env, MLMODEL_PORT: String(port), PORT: String(port) }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const t0 = performance.now();
  const entrypoint = cmd.length > 0 ? ['--entrypoint', cmd[0]] : [];
  const child = spawn('docker', ['run', '-d', '--rm', '--network', 'host', '--read-only', ...envArgs, ...entrypoint, image, ...cmd.slice(1)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let id = '';
  child.stdout.on('data', (d) => (id += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const started = new Promise((resolve) => child.on('exit', resolve));
  let ms = null;
  const deadline = t0 + 60_000;
  while (performance.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/ping`);
      await r.arrayBuffer();
      if (r.status === 200) {
        ms = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  const code = await started;
  if (code !== 0) throw new Error(`docker run ${image} failed: ${err}`);
  docker(['rm', '-f', id.trim()], { allowFail: true });
  if (ms === null) throw new Error(`${image} did not answer /ping within 60 s`);
  return ms;
}

/** Ready with no network at all: started --network none --read-only, polled from inside the container. */
async function readyWithoutNetwork(image) {
  const id = docker(['run', '-d', '--network', 'none', '--read-only', image]).stdout.trim();
  const t0 = performance.now();
  try {
    for (;;) {
      const r = docker(
        ['exec', id, 'node', '-e', "fetch('http://127.0.0.1:8080/ping').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"],
        { allowFail: true },
      );
      if (r.status === 0) return { ready: true, within_ms: Math.round(performance.now() - t0) };
      if (performance.now() - t0 > 60_000) return { ready: false, logs: docker(['logs', id], { allowFail: true }).stderr.slice(-2000) };
    }
  } finally {
    docker(['rm', '-f', id], { allowFail: true });
  }
}

async function main() {
  if (docker(['info'], { allowFail: true }).status !== 0) throw new Error('no Docker engine answers: run scripts/docker-setup.sh');
  for (const b of [NODE_BASE, PYTHON_BASE]) {
    if (docker(['image', 'inspect', b], { allowFail: true }).status !== 0) throw new Error(`${b} is missing: run scripts/make-base-images.sh`);
  }
  const { buildImage } = await import(join(ROOT, 'packages/image-builder/dist/index.js'));
  const images = {
    iris_onnx: { model: join(FIXTURES, 'iris_onnx'), base: NODE_BASE, tag: 'mlmodel-bench/iris-onnx:latest' },
    iris_sklearn: { model: join(FIXTURES, 'iris_sklearn'), base: PYTHON_BASE, tag: 'mlmodel-bench/iris-sklearn:latest' },
  };
  const results = {};
  for (const [name, img] of Object.entries(images)) {
    console.error(`building ${img.tag} on ${img.base} ...`);
    const t0 = performance.now();
    const built = await buildImage({ model: img.model, tag: img.tag, baseImage: img.base, network: 'host', noCache: true });
    results[name] = {
      image: img.tag,
      base_image: img.base,
      build_s_no_cache: Math.round((performance.now() - t0) / 100) / 10,
      image_mb: mb(built.sizeBytes),
      base_mb: mb(built.sizeBytes - built.overBaseBytes),
      over_base_mb: mb(built.overBaseBytes),
      runtime_files_mb: mb(built.runtimeBytes),
    };
  }
  // a Node server of three lines on the same base: what a container that starts Node costs anyway
  const baselineCmd = ['node', '-e', "require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '0.0.0.0')"];
  const cases = [
    ['baseline_node', () => startTime(NODE_BASE, { cmd: baselineCmd })],
    ['iris_onnx', () => startTime(images.iris_onnx.tag)],
    ['iris_onnx_1_worker', () => startTime(images.iris_onnx.tag, { env: { MLMODEL_WORKERS: '1' } })],
    ['baseline_python_base', () => startTime(PYTHON_BASE, { cmd: baselineCmd })],
    ['iris_sklearn', () => startTime(images.iris_sklearn.tag)],
  ];
  const times = Object.fromEntries(cases.map(([n]) => [n, []]));
  for (const [, run] of cases) await run(); // warm the page cache once
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? cases : [...cases].reverse();
    for (const [n, run] of order) times[n].push(await run());
    console.error(`round ${round + 1}/${ROUNDS}: ${order.map(([n]) => `${n} ${Math.round(times[n].at(-1))} ms`).join(', ')}`);
  }
  const start = Object.fromEntries(
    Object.entries(times).map(([n, xs]) => [
      n,
      { median_ms: Math.round(median(xs)), min_ms: Math.round(Math.min(...xs)), max_ms: Math.round(Math.max(...xs)), runs: xs.map(Math.round) },
    ]),
  );
  results.iris_onnx.start = start.iris_onnx;
  results.iris_onnx.start_1_worker = start.iris_onnx_1_worker;
  results.iris_onnx.baseline_start = start.baseline_node;
  results.iris_onnx.start_over_baseline_ms = start.iris_onnx.median_ms - start.baseline_node.median_ms;
  results.iris_onnx.targets = {
    over_base_le_120_mb: results.iris_onnx.over_base_mb <= 120,
    ping_200_le_1500_ms: start.iris_onnx.median_ms <= 1500,
  };
  results.iris_sklearn.start = start.iris_sklearn;
  results.iris_sklearn.baseline_start = start.baseline_python_base;
  results.iris_sklearn.start_over_baseline_ms = start.iris_sklearn.median_ms - start.baseline_python_base.median_ms;
  for (const [name, img] of Object.entries(images)) results[name].no_network_start = await readyWithoutNetwork(img.tag);
  for (const img of Object.values(images)) docker(['rmi', img.tag], { allowFail: true });

  const out = {
    benchmark: 'images',
    machine: machineInfo({ docker: docker(['version', '--format', '{{.Server.Version}}']).stdout.trim() }),
    rounds: ROUNDS,
    results,
  };
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, 'bench/results/images.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
}

await main();
