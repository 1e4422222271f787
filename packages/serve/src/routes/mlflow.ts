/**
 * MLflow's scoring protocol, as `mlflow models serve` (MLflow 3) answers it: /ping, /health,
 * /version, /invocations; plus SageMaker's optional /execution-parameters. Errors are
 * `{"error_code", "message"}` bodies with MLflow's statuses; unknown paths and wrong methods get
 * FastAPI's `{"detail": ...}` bodies.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { encodePredictions, parseScoringRequest, CONTENT_TYPE_ARROW_STREAM, type Prediction } from '@mlmodel/format';
import type { ServeContext } from '../context.js';
import { wantsArrow } from '../http/accept.js';
import { withDeadline } from '../http/deadline.js';
import { sendMlflowError } from '../http/error-reply.js';
import { routeWith405 } from '../http/routes.js';
import { ModelRepository } from '../models/model-repository.js';
import type { ServedModel } from '../models/served-model.js';

const EMPTY = new Uint8Array(0);
const CUSTOM_ATTRIBUTES = 'x-amzn-sagemaker-custom-attributes';

/** FastAPI's 405 body. */
async function methodNotAllowed(_req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return reply.code(405).header('content-type', 'application/json').send('{"detail":"Method Not Allowed"}');
}

/** The success body: JSON predictions, or Arrow IPC when the client asks for it and the prediction is a batch. */
export async function sendPrediction(reply: FastifyReply, prediction: Prediction, accept: string | undefined, unwrapped: boolean): Promise<FastifyReply> {
  if (prediction.kind !== 'json' && wantsArrow(accept)) {
    const { batchToIPC } = await import('@mlmodel/format/arrow');
    const ipc = batchToIPC(prediction, 'stream');
    return reply.type(CONTENT_TYPE_ARROW_STREAM).send(Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength));
  }
  return reply.header('content-type', 'application/json').send(encodePredictions(prediction, { unwrapped }));
}

/** Parse, predict and answer one /invocations request for `model`. */
export async function invoke(ctx: ServeContext, model: ServedModel, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const attrs = req.headers[CUSTOM_ATTRIBUTES];
  if (typeof attrs === 'string') reply.header(CUSTOM_ATTRIBUTES, attrs);
  const body = req.body instanceof Uint8Array ? req.body : EMPTY;
  const { prediction, unwrapped } = await withDeadline(ctx.options.requestTimeoutMs, async (deadline) => {
    const parsed = await parseScoringRequest(body, req.headers['content-type'], model.model.signature?.inputs ?? null, {
      paramSpecs: model.model.signature?.params ?? null,
      signatureFromTypeHint: model.signatureFromTypeHint,
      maxBytes: ctx.options.bodyLimitBytes,
    });
    return { prediction: await model.predict(parsed.batch, parsed.params, deadline), unwrapped: parsed.format === 'llm' };
  });
  return sendPrediction(reply, prediction, req.headers.accept, unwrapped);
}

export function mlflowRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.setErrorHandler((err, _req, reply) => sendMlflowError(reply, err, ctx.options.includeStackTrace));

  // MLflow answers a literal newline labelled JSON; 503 until the model has loaded (MLflow loads before listening)
  const ping = async (_req: FastifyRequest, reply: FastifyReply) => {
    const entry = ctx.repo.defaultEntry;
    if (entry.state !== 'ready') ModelRepository.ready(entry);
    return reply.header('content-type', 'application/json').send('\n');
  };
  routeWith405(app, ['GET'], '/ping', ping, methodNotAllowed);
  routeWith405(app, ['GET'], '/health', ping, methodNotAllowed);
  routeWith405(app, ['GET'], '/version', async (_req, reply) => reply.header('content-type', 'application/json').send(ctx.options.version), methodNotAllowed);

  routeWith405(app, ['POST'], '/invocations', async (req, reply) => invoke(ctx, ModelRepository.ready(ctx.repo.defaultEntry), req, reply), methodNotAllowed);

  // SageMaker batch transform asks this before sending data
  routeWith405(
    app,
    ['GET'],
    '/execution-parameters',
    async (_req, reply) => {
      const model = ctx.repo.defaultEntry.model;
      const concurrency = model?.batcher?.options.maxConcurrency ?? (typeof model?.model.details.workers === 'number' ? model.model.details.workers : 1);
      const maxPayloadMb = Math.max(1, Math.min(100, Math.floor(ctx.options.bodyLimitBytes / (1024 * 1024))));
      return reply.header('content-type', 'application/json').send({ MaxConcurrentTransforms: concurrency, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: maxPayloadMb });
    },
    methodNotAllowed,
  );
}
