/**
 * Start a server process: listen at once (liveness answers immediately), load the models in the
 * background (readiness follows), and on SIGTERM/SIGINT stop accepting, drain what was accepted,
 * close the models and resolve `closed`.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createRegistry, type FlavorLogger } from '@mlmodel/flavors';
import type { ModelUriResolver } from '@mlmodel/format';
import { ModelRepository, type ServedModelConfig } from './models/model-repository.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, type ServerOptions } from './options.js';
import { createServer } from './server.js';
import type { ServeContext } from './context.js';
import { Drain } from './drain.js';
import { boundUrl, exposureWarning, isAllInterfaces } from './http/bound-address.js';

export interface RunOptions extends ServerOptions {
  readonly models: readonly ServedModelConfig[];
  /** Turns remote model URIs (`runs:/`, `models:/`) into local directories before loading. */
  readonly resolver?: ModelUriResolver;
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 5000; 0 picks a free one). */
  readonly port?: number;
  /** Third-party flavor plugins to register before loading. */
  readonly plugins?: readonly string[];
  /**
   * Load the models before listening (default false: listen first, so liveness answers at once
   * and /ping says 503 until ready). Workers sharing a port use this, so that no connection
   * reaches a worker that cannot answer yet.
   */
  readonly listenAfterLoad?: boolean;
  /** Install SIGTERM/SIGINT handlers that drain and close (default true). */
  readonly handleSignals?: boolean;
  /** Log a warning when every interface is bound without an auth token (default true; of N workers sharing a port, one warns). */
  readonly warnWithoutAuth?: boolean;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly context: ServeContext;
  /** `http://host:port` as bound: `http://0.0.0.0:8080` for every IPv4 interface, `http://[::]:8080` for every interface. */
  readonly url: string;
  /** Resolves when every model has loaded; rejects with the first load error (the server then closes). */
  readonly ready: Promise<void>;
  /** Stop accepting, drain in-flight requests, close models. Idempotent. */
  close(): Promise<void>;
  /** Resolves once the server has closed (after `close()` or a signal). */
  readonly closed: Promise<void>;
}

/** A FlavorLogger that writes to the server's pino logger. */
function flavorLogger(app: FastifyInstance): FlavorLogger {
  return { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m) };
}

export async function startServer(opts: RunOptions): Promise<RunningServer> {
  const registry = createRegistry();
  for (const p of opts.plugins ?? []) await registry.loadPlugin(p);
  const repo = new ModelRepository(opts.models);
  const { app, context } = createServer(repo, opts);

  const drain = new Drain();
  drain.attach(app);
  const listen = async (): Promise<string> => {
    await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 5000 });
    // the address as bound (fastify's answer names 127.0.0.1 for 0.0.0.0)
    const bound = app.server.address() as AddressInfo;
    const address = boundUrl(bound);
    app.log.info(`listening on ${address}`);
    if (opts.warnWithoutAuth !== false && isAllInterfaces(bound) && !context.options.authToken) app.log.warn(exposureWarning(bound));
    return address;
  };
  const started = performance.now();
  const loading = (): Promise<void> =>
    repo.loadAll(registry, {
      logger: flavorLogger(app),
      observe: (model, r) => context.metrics.observeBatch(model, r),
      workers: context.workers,
      ...(opts.resolver ? { resolver: opts.resolver } : {}),
    });
  let loaded: Promise<void> | null = null;
  if (opts.listenAfterLoad) {
    loaded = loading();
    try {
      await loaded;
    } catch (e) {
      await repo.closeAll();
      await context.workers.close();
      throw e;
    }
  }
  const address = await listen();

  let closing: Promise<void> | null = null;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    app.log.info(`${signal}: draining in-flight requests`);
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (opts.handleSignals !== false) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      try {
        await drain.drain((opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) + 5_000);
        await app.close();
        const stats = drain.stats;
        // proof for operators (and the SIGTERM test) that every request read was answered
        const lost = stats.received - stats.answered - stats.abandoned;
        app.log[lost === 0 ? 'info' : 'warn']({ ...stats, unanswered: lost }, 'drained');
      } finally {
        await repo.closeAll();
        await context.workers.close();
        markClosed();
      }
    })();
    return closing;
  };
  if (opts.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  const ready = (loaded ?? loading()).then(
    () => {
      app.log.info(
        `${repo.slots.length} model(s) ready in ${Math.round(performance.now() - started)} ms: ${repo.slots.map((s) => `${s.config.name} (${s.state === 'ready' ? s.model.flavor : s.state})`).join(', ')}`,
      );
    },
    async (err: unknown) => {
      await close();
      throw err;
    },
  );
  ready.catch(() => undefined);
  return { app, context, url: address, ready, close, closed };
}
