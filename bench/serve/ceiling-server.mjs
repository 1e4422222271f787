// The ceiling for bench/serve/run.mjs: a bare fastify 5 route, no logging, answering every
// POST /invocations with a fixed body the size of a 1-row prediction. fastify parses the small
// JSON request body (its default parser), as any real JSON route would.
//
//   node bench/serve/ceiling-server.mjs PORT
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const BODY = '{"predictions": [0]}';
const app = Fastify({ logger: false });
app.get('/ping', async (_req, reply) => reply.header('content-type', 'application/json').send('\n'));
app.post('/invocations', async (_req, reply) => reply.header('content-type', 'application/json').send(BODY));
await app.listen({ host: '127.0.0.1', port });
const stop = () => app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
