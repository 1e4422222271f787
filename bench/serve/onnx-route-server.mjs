// A second baseline for bench/serve/run.mjs: the least any HTTP server must do to answer iris_onnx.
// A bare fastify 5 route (no logging) parses the body with fastify's JSON parser, copies
// `inputs` into a Float32Array, calls onnxruntime-node's `run` (one intra-op thread) and answers
// JSON.stringify of the two outputs. No signature, no validation, no limits, no metrics, no
// deadline: what `mlmodel serve` adds on top is measured against this, process count for process
// count (`--processes N` forks N of them on one port with node:cluster, as `--workers N` does).
//
//   node bench/serve/onnx-route-server.mjs [--processes N] PORT
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

const args = process.argv.slice(2);
const at = args.indexOf('--processes');
const processes = at >= 0 ? Number(args.splice(at, 2)[1]) : 1;
const port = Number(args[0] ?? 0);
const MODEL = fileURLToPath(new URL('../../../shared/fixtures/mlflow-3.5/iris_onnx/model.onnx', import.meta.url));

if (processes > 1 && cluster.isPrimary) {
  for (let i = 0; i < processes; i++) cluster.fork();
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  const session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 1 });
  const app = Fastify({ logger: false });
  app.get('/ping', async (_req, reply) => reply.header('content-type', 'application/json').send('\n'));
  app.post('/invocations', async (req, reply) => {
    const rows = req.body.inputs;
    const data = new Float32Array(rows.length * 4);
    let k = 0;
    for (const row of rows) for (const v of row) data[k++] = v;
    const out = await session.run({ features: new ort.Tensor('float32', data, [rows.length, 4]) });
    const p = out.probabilities.data;
    const probabilities = [];
    for (let i = 0; i < rows.length; i++) probabilities.push(Array.from(p.subarray(i * 3, i * 3 + 3)));
    const label = Array.from(out.label.data, Number);
    return reply.header('content-type', 'application/json').send(JSON.stringify({ predictions: { probabilities, label } }));
  });
  await app.listen({ host: '127.0.0.1', port });
  const stop = () => app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
