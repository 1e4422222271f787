/**
 * MLflow's scoring protocol, as `mlflow models serve` (MLflow 3) answers it: /ping, /health,
 * /version, /invocations; plus SageMaker's optional /execution-parameters. Errors are
 * `{"error_code", "message"}` bodies with MLflow's statuses; unknown paths and wrong methods get
 * FastAPI's `{"detail": ...}` bodies.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EncodedPrediction } from '@mlmodel/flavors';
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

/** The success body as the runner encoded it: JSON predictions, or Arrow IPC when the client asked for it. */
function sendEncoded(reply: FastifyReply, encoded: EncodedPrediction): FastifyReply {
  const body = encoded.body;
  return reply.header('content-type', encoded.contentType).send(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}

/** Decode, predict and answer one /invocations request for `model`: the runner's steps, with the batcher between prepare and predict. */
export async function invoke(ctx: ServeContext, model: ServedModel, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const attrs = req.headers[CUSTOM_ATTRIBUTES];
  if (typeof attrs === 'string') reply.header(CUSTOM_ATTRIBUTES, attrs);
  const body = req.body instanceof Uint8Array ? req.body : EMPTY;
  const runner = model.runner;
  const { prediction, unwrapped } = await withDeadline(ctx.options.requestTimeoutMs, async (deadline) => {
    const decoded = await runner.decode(body, req.headers['content-type'], { maxBytes: ctx.options.bodyLimitBytes });
    return { prediction: await model.predict(decoded.input, decoded.params, deadline), unwrapped: decoded.format === 'llm' };
  });
  return sendEncoded(reply, await runner.encode(prediction, { accept: req.headers.accept, unwrapped }));
}

export function mlflowRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.setErrorHandler((err, _req, reply) => sendMlflowError(reply, err, ctx.options.includeStackTrace));

  // MLflow answers a literal newline labelled JSON; 503 until the model has loaded (MLflow loads before listening)
  const ping = async (_req: FastifyRequest, reply: FastifyReply) => {
    const slot = ctx.repo.defaultSlot;
    if (slot.state !== 'ready') ModelRepository.ready(slot);
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
      return reply.header('content-type', 'application/json').send({ MaxConcurrentTransforms: concurrency, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: maxPayloadMb });
    },
    methodNotAllowed,
  );
}
