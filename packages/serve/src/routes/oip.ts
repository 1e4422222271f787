/**
 * Open Inference Protocol v2 (KServe V2 REST): health, server and model metadata, readiness and
 * inference, with the binary tensor data extension. Errors are `{"error": "..."}` bodies with
 * KServe's statuses (400 invalid input, 404 unknown model, 503 not ready, 500 internal); wrong
 * methods are 405. The codec lives in ../oip (this protocol's own decoding, like MLServer's codecs);
 * predictions go through `ServedModel.predict`, the runner's prepare → predict path that enforces
 * the MLflow signature for every protocol.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServeContext } from '../context.js';
import { withDeadline } from '../http/deadline.js';
import { sendOipError } from '../http/error-reply.js';
import { routeWith405 } from '../http/method-routes.js';
import { ModelRepository, type ModelSlot } from '../models/model-repository.js';
import type { ServedModel } from '../models/served-model.js';
import { HEADER_CONTENT_LENGTH, checkInferContentType, modelMetadata, schemaTensors, serverMetadata, type MetadataTensor } from '../oip/index.js';
import { decodeInfer, encodeInfer } from '../oip/off-thread.js';

const EMPTY = new Uint8Array(0);

interface ModelParams {
  readonly name: string;
  readonly version?: string;
}

function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
}

async function methodNotAllowed(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return sendJson(reply, 405, { error: `Method ${req.method} is not allowed here` });
}

/** The model's inputs as metadata tensors, computed once per loaded model. */
const inputsOf = new WeakMap<ServedModel, readonly MetadataTensor[]>();
function modelInputs(served: ServedModel): readonly MetadataTensor[] {
  let m = inputsOf.get(served);
  if (!m) inputsOf.set(served, (m = schemaTensors(served.signature?.inputs ?? null, 'input')));
  return m;
}

export function oipRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.setErrorHandler((err, _req, reply) => sendOipError(reply, err));

  routeWith405(app, ['GET'], '/v2', async (_req, reply) => sendJson(reply, 200, serverMetadata(ctx.options.version)), methodNotAllowed);
  routeWith405(app, ['GET'], '/v2/health/live', async (_req, reply) => sendJson(reply, 200, { live: true }), methodNotAllowed);
  routeWith405(
    app,
    ['GET'],
    '/v2/health/ready',
    async (_req, reply) => {
      const ready = ctx.repo.allReady;
      return sendJson(reply, ready ? 200 : 503, { ready });
    },
    methodNotAllowed,
  );

  const slotOf = (req: FastifyRequest): ModelSlot => {
    const { name, version } = req.params as ModelParams;
    return ctx.repo.find(name, version);
  };

  const metadata = async (req: FastifyRequest, reply: FastifyReply) => {
    const slot = slotOf(req);
    const served = ModelRepository.ready(slot);
    return sendJson(reply, 200, modelMetadata(slot.config.name, slot.config.version ?? null, served.flavor, served.signature));
  };

  const modelReady = async (req: FastifyRequest, reply: FastifyReply) => {
    const slot = slotOf(req);
    const ready = slot.state === 'ready';
    return sendJson(reply, ready ? 200 : 503, { name: slot.config.name, ready });
  };

  const infer = async (req: FastifyRequest, reply: FastifyReply) => {
    const slot = slotOf(req);
    const served = ModelRepository.ready(slot);
    checkInferContentType(req.headers['content-type'], req.headers[HEADER_CONTENT_LENGTH]);
    const signature = served.signature;
    const body = req.body instanceof Uint8Array ? req.body : EMPTY;
    const reservation = ctx.memory.reserve(body.byteLength);
    if (reservation) reply.raw.once('close', reservation.release);
    const encoded = await withDeadline(
      ctx.options.requestTimeoutMs,
      async (signal) => {
        // large bodies and answers are parsed and encoded in worker threads (../oip/off-thread.ts)
        const { request, input } = await decodeInfer(
          ctx.workers,
          { body, headerLength: req.headers[HEADER_CONTENT_LENGTH], modelInputs: modelInputs(served), signature },
          signal,
        );
        const prediction = await served.predict(input, signature?.params ? request.parameters : null, signal);
        const options = {
          modelName: slot.config.name,
          modelVersion: slot.config.version ?? null,
          id: request.id ?? req.id,
          requested: request.outputs,
          binaryDefault: request.binaryOutput,
        };
        return encodeInfer(ctx.workers, prediction, signature?.outputs ?? null, options, signal);
      },
      req.raw.socket,
    );
    if (encoded.headerLength === null) return reply.code(200).header('content-type', 'application/json').send(encoded.body);
    return reply.code(200).header('content-type', 'application/octet-stream').header(HEADER_CONTENT_LENGTH, String(encoded.headerLength)).send(encoded.body);
  };

  for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    routeWith405(app, ['GET'], base, metadata, methodNotAllowed);
    routeWith405(app, ['GET'], `${base}/ready`, modelReady, methodNotAllowed);
    routeWith405(app, ['POST'], `${base}/infer`, infer, methodNotAllowed);
  }
}
