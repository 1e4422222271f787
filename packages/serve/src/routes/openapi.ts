/**
 * /openapi.json (the OpenAPI 3.1 document generated from the served models' signatures) and
 * /docs (swagger-ui, with its files under /docs/assets/). The document is built once every model
 * is ready and then cached; before that the signatures are unknown and the answer is a 503.
 * Both need the bearer token when auth is on (they are not public paths).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServeContext } from '../context.js';
import { ServeError } from '../errors.js';
import { sendMlflowError } from '../http/error-reply.js';
import { buildOpenApiDocument } from '../openapi/document.js';
import { describeModel } from '../openapi/describe.js';
import { DOCS_CSP, DOCS_HTML, DocsAssets } from '../openapi/docs-page.js';
import { isPublicPath } from '../http/public-paths.js';

const ASSET_CACHE_CONTROL = 'public, max-age=86400';

/** The 503 while a model loads (or after one failed): the document depends on every signature. */
function notReady(ctx: ServeContext): ServeError {
  const s = ctx.repo.slots.find((x) => x.state !== 'ready');
  const why = s ? `model '${s.config.name}' ${s.state === 'failed' ? 'failed to load' : 'is still loading'}` : 'the models are still loading';
  return new ServeError(`The API description is not available yet: ${why}, so its signature is not known.`, 503, {
    errorCode: 'TEMPORARILY_UNAVAILABLE',
    headers: { 'retry-after': '1' },
  });
}

/** Headers every /docs response carries. */
function docsHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
}

export function openapiRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.setErrorHandler((err, _req, reply) => sendMlflowError(reply, err, ctx.options.includeStackTrace));

  let documentJson: Promise<string> | null = null;
  const document = (): Promise<string> => {
    if (!ctx.repo.allReady) throw notReady(ctx);
    documentJson ??= Promise.all(ctx.repo.slots.map(describeModel)).then((models) =>
      JSON.stringify(buildOpenApiDocument({ version: ctx.options.version, models, auth: Boolean(ctx.options.authToken), isPublicPath })),
    );
    documentJson.catch(() => (documentJson = null));
    return documentJson;
  };

  app.get('/openapi.json', async (_req, reply) => {
    const body = await document();
    return reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-cache').send(body);
  });

  app.get('/docs', async (_req, reply) =>
    docsHeaders(reply).header('content-security-policy', DOCS_CSP).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(DOCS_HTML),
  );
  // the page's relative URLs assume /docs without the slash
  app.get('/docs/', async (_req, reply) => reply.redirect('../docs', 301));

  const assets = new DocsAssets();
  app.get('/docs/assets/:name', async (req: FastifyRequest<{ Params: { name: string } }>, reply) => {
    const asset = await assets.get(req.params.name);
    if (!asset) return reply.code(404).header('content-type', 'application/json').send('{"detail":"Not Found"}');
    docsHeaders(reply).header('cache-control', ASSET_CACHE_CONTROL).header('etag', asset.etag);
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  });
}
