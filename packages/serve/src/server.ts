/**
 * The HTTP server: one fastify instance whose route groups are encapsulated plugins (MLflow
 * scoring protocol, Open Inference Protocol v2, metrics, OpenAPI/docs), each with the error
 * format of its protocol. Bodies are taken as raw bytes and parsed by @mlmodel/format's one
 * request parser, never by fastify.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { WorkerPool } from '@mlmodel/flavors';
import type { ServeContext } from './context.js';
import { requireBearerToken } from './http/auth.js';
import { enableCors } from './http/cors.js';
import { isPublicPath } from './http/public-paths.js';
import { BodyDeadlines, readBody } from './http/body.js';
import { accessLogger } from './logging/access-log.js';
import { bufferedStdout } from './logging/buffered-lines.js';
import { ClientErrorResponder, MAX_PARAM_LENGTH, isOipPath, routerErrorHandler } from './http/early-errors.js';
import { sendMlflowError, sendOipError } from './http/error-reply.js';
import { MemoryBudget } from './memory-budget.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import type { ModelRepository } from './models/model-repository.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { mlflowRoutes } from './routes/mlflow.js';
import { oipRoutes } from './routes/oip.js';
import { metricsRoutes } from './routes/metrics.js';
import { openapiRoutes } from './routes/openapi.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Request ids unique across processes and restarts without a UUID per request (randomUUID is a
 * measurable share of a small request): a random per-process prefix and a counter.
 */
function requestIds(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let n = 0;
  return () => `${prefix}-${(n++).toString(36)}`;
}

/** Build (but do not start) a server for `repo`'s models. */
export function createServer(repo: ModelRepository, options: ServerOptions = {}, metrics?: ServerMetrics): { app: FastifyInstance; context: ServeContext } {
  const opts = resolveServerOptions(options);
  const ctx: ServeContext = {
    repo,
    options: opts,
    metrics: metrics ?? new ServerMetrics({ processMetrics: opts.processMetrics }),
    memory: new MemoryBudget({ limitBytes: opts.memoryBudgetBytes }),
    // threads start on first use: a server that never sees a large request has none
    workers: new WorkerPool(opts.workerThreads === undefined ? {} : { size: opts.workerThreads }),
  };
  const nextId = requestIds();
  const clientErrors = new ClientErrorResponder((): FastifyBaseLogger => app.log);
  const requestTimeout = opts.requestTimeoutMs + 5_000;
  // default: stdout in whole-line writes of up to 4 KiB (logging/buffered-lines.ts), not a write per line
  const logDestination = opts.logStream ?? bufferedStdout();
  const app = Fastify({
    logger: { level: opts.logLevel, stream: logDestination },
    // one access line per request from our onResponse hook, none from fastify
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes,
    requestTimeout,
    // Node checks request timeouts on this period (default 30 s): keep the 408 within ~10 % of the timeout
    http: { connectionsCheckingInterval: Math.min(30_000, Math.max(500, Math.round(requestTimeout / 10))) },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // errors before any route runs, in the protocol of the path, without echoing the request
    frameworkErrors: routerErrorHandler(opts.includeStackTrace),
    clientErrorHandler: clientErrors.handle,
    // the drain (drain.ts) refuses requests during shutdown itself, counted, with Retry-After
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextId();
    },
  });
  clientErrors.track(app.server);

  // raw bytes for every content type (and none): @mlmodel/format parses them; read into one buffer as they arrive
  app.removeAllContentTypeParsers();
  // a client that stalls after its headers gets a 408 once the request timeout has passed
  const bodyDeadlines = new BodyDeadlines(opts.requestTimeoutMs);
  app.addContentTypeParser('*', (_req, payload, done) => readBody(payload, opts.bodyLimitBytes, done, bodyDeadlines));

  // callback-style hooks where no await is needed: no promise per request and hook
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  // no onSend hook: with one, fastify runs every response through its hook runner (a 413's lingering close is in readBody)
  // null when info lines are not written: nothing is built
  const accessLog = accessLogger(app.log, logDestination);
  app.addHook('onResponse', (req, reply, done) => {
    const ms = reply.elapsedTime;
    ctx.metrics.observeRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, ms / 1000);
    accessLog?.record(req, reply.statusCode, ms);
    done();
  });
  app.addHook('onClose', async () => {
    accessLog?.close();
    bodyDeadlines.close();
    await ctx.workers.close();
  });
  if (opts.corsOrigins.length > 0) enableCors(app, opts.corsOrigins);
  if (opts.authToken) requireBearerToken(app, opts.authToken, isPublicPath);

  // errors outside the protocol plugins (the hooks of unknown paths: auth, drain), in the protocol of the path
  app.setErrorHandler((err, req, reply) => (isOipPath(req.url) ? sendOipError(reply, err) : sendMlflowError(reply, err, opts.includeStackTrace)));
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/v2'))
      return reply
        .code(404)
        .header('content-type', 'application/json')
        .send(JSON.stringify({ error: `Not found: ${req.method} ${req.url.split('?', 1)[0]}` }));
    return reply.code(404).header('content-type', 'application/json').send('{"detail":"Not Found"}');
  });

  void app.register(async (scope) => mlflowRoutes(scope, ctx));
  void app.register(async (scope) => oipRoutes(scope, ctx));
  void app.register(async (scope) => metricsRoutes(scope, ctx));
  void app.register(async (scope) => openapiRoutes(scope, ctx));
  return { app, context: ctx };
}
