/**
 * MLflow's scoring protocol, as `mlflow models serve` (MLflow 3) answers it: /ping, /health,
 * /version, /invocations; plus SageMaker's optional /execution-parameters. Errors are
 * `{"error_code", "message"}` bodies with MLflow's statuses; unknown paths and wrong methods get
 * FastAPI's `{"detail": ...}` bodies.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { releaseBuffersGradually, type ChunkedPrediction } from '@mlmodel/flavors';
import type { ServeContext } from '../context.js';
import { withDeadline } from '../http/deadline.js';
import { sendMlflowError } from '../http/error-reply.js';
import { routeWith405 } from '../http/method-routes.js';
import { ModelRepository } from '../models/model-repository.js';
import type { ServedModel } from '../models/served-model.js';

const EMPTY = new Uint8Array(0);
const CUSTOM_ATTRIBUTES = 'x-amzn-sagemaker-custom-attributes';

/** FastAPI's 405 body. */
async function methodNotAllowed(_req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return reply.code(405).header('content-type', 'application/json').send('{"detail":"Method Not Allowed"}');
}

function asBuffer(b: string | Uint8Array): string | Buffer {
  return typeof b === 'string' ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The success body as the runner encoded it: JSON predictions (a large answer in pieces), or Arrow IPC when the client asked for it. */
function sendEncoded(reply: FastifyReply, encoded: ChunkedPrediction): FastifyReply {
  reply.header('content-type', encoded.contentType);
  const chunks = encoded.chunks;
  if (chunks.length === 1) return reply.send(asBuffer(chunks[0]!));
  let length = 0;
  for (const c of chunks) length += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
  // a large answer's memory goes back once the kernel has all of it, not whenever the collector runs
  reply.raw.once('finish', () => releaseBuffersGradually(chunks.flatMap((c) => (typeof c === 'string' ? [] : [c.buffer]))));
  return reply.header('content-length', String(length)).send(Readable.from(chunks.map(asBuffer), { objectMode: false }));
}

/**
 * Decode, predict and answer one /invocations request for `model`: the runner's steps, with the
 * batcher between prepare and predict, all under the request's deadline. A large body first
 * reserves its share of the memory budget (503 when it does not fit), held until the response is
 * sent; the runner moves its decoding (and a large model call) to worker threads and encodes a
 * large answer in pieces, so the event loop keeps answering health checks.
 */
export async function invoke(ctx: ServeContext, model: ServedModel, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const attrs = req.headers[CUSTOM_ATTRIBUTES];
  if (typeof attrs === 'string') reply.header(CUSTOM_ATTRIBUTES, attrs);
  const body = req.body instanceof Uint8Array ? req.body : EMPTY;
  const reservation = ctx.memory.reserve(body.byteLength);
  if (reservation) reply.raw.once('close', reservation.release);
  const runner = model.runner;
  const encoded = await withDeadline(
    ctx.options.requestTimeoutMs,
    async (deadline) => {
      const { prepared, format } = await runner.decodeAndPrepare(body, req.headers['content-type'], {
        limits: { maxBytes: ctx.options.bodyLimitBytes },
        cancel: deadline,
        transferBody: true,
      });
      const prediction = await model.run(prepared, deadline);
      return runner.encodeChunked(prediction, { accept: req.headers.accept, unwrapped: format === 'llm', cancel: deadline });
    },
    req.raw.socket,
  );
  return sendEncoded(reply, encoded);
}

export function mlflowRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.setErrorHandler((err, _req, reply) => sendMlflowError(reply, err, ctx.options.includeStackTrace));

  // MLflow answers a literal newline labelled JSON; 503 until every model has loaded, as /v2/health/ready (MLflow loads before listening)
  const ping = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (!ctx.repo.allReady) for (const slot of ctx.repo.slots) ModelRepository.ready(slot);
    return reply.header('content-type', 'application/json').send('\n');
  };
  routeWith405(app, ['GET'], '/ping', ping, methodNotAllowed);
  routeWith405(app, ['GET'], '/health', ping, methodNotAllowed);
  routeWith405(app, ['GET'], '/version', async (_req, reply) => reply.header('content-type', 'application/json').send(ctx.options.version), methodNotAllowed);

  routeWith405(app, ['POST'], '/invocations', async (req, reply) => invoke(ctx, ModelRepository.ready(ctx.repo.defaultSlot), req, reply), methodNotAllowed);

  // SageMaker batch transform asks this before sending data
  routeWith405(
    app,
    ['GET'],
    '/execution-parameters',
    async (_req, reply) => {
      const slot = ctx.repo.defaultSlot;
      const concurrency = slot.state === 'ready' ? slot.model.maxConcurrency : 1;
      const maxPayloadMb = Math.max(1, Math.min(100, Math.floor(ctx.options.bodyLimitBytes / (1024 * 1024))));
      return reply
        .header('content-type', 'application/json')
        .send({ MaxConcurrentTransforms: concurrency, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: maxPayloadMb });
    },
    methodNotAllowed,
  );
}
