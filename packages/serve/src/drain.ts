/**
 * Graceful shutdown bookkeeping. Closing the listening socket resets every connection still in the
 * kernel's accept queue, and a busy event loop accepts lazily, so under load that queue holds
 * clients that have already sent their request. So a drain keeps listening while requests in
 * flight finish; requests arriving meanwhile (from the queue or kept-alive connections) get a 503
 * with `Connection: close` and `Retry-After`; once none is in flight and none has arrived for a
 * moment (at most `maxQuietWaitMs` after the last in-flight request ended) the caller closes.
 *
 * It also counts requests read and requests answered, so the shutdown log can prove that every
 * request the server read got its response.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ShuttingDownError } from './errors.js';

/** Close once no request has arrived for this long… */
const QUIET_MS = 50;
/** …but never wait for quiet longer than this once nothing is in flight. */
const MAX_QUIET_WAIT_MS = 1_000;

export interface DrainStats {
  /** Requests whose headers the server read. */
  readonly received: number;
  /** Responses fully handed to the kernel. */
  readonly answered: number;
  /** Requests whose client went away before the response ended. */
  readonly abandoned: number;
}

export class Drain {
  private draining = false;
  private lastArrival = 0;
  private received = 0;
  /** Changed by the responses' close listeners. */
  private readonly counts = { inFlight: 0, answered: 0, abandoned: 0 };

  /** Count requests and refuse new ones while draining. */
  attach(app: FastifyInstance): void {
    // per request: a callback hook and a shared close listener (`this` is the response): no promise, no closure
    const counts = this.counts;
    function closed(res: ServerResponse, inFlight: boolean): void {
      if (inFlight) counts.inFlight--;
      if (res.writableFinished) counts.answered++;
      else counts.abandoned++;
    }
    function closedInFlight(this: ServerResponse): void {
      closed(this, true);
    }
    function closedRefused(this: ServerResponse): void {
      closed(this, false);
    }
    app.addHook('onRequest', (_req, reply, done) => {
      this.received++;
      this.lastArrival = performance.now();
      if (this.draining) {
        reply.raw.on('close', closedRefused);
        done(new ShuttingDownError());
        return;
      }
      counts.inFlight++;
      reply.raw.on('close', closedInFlight);
      done();
    });
  }

  get stats(): DrainStats {
    return { received: this.received, answered: this.counts.answered, abandoned: this.counts.abandoned };
  }

  /** Refuse new requests and wait for in-flight ones (at most `maxMs`), then for a quiet moment. */
  async drain(maxMs: number): Promise<void> {
    this.draining = true;
    const now = (): number => performance.now();
    const deadline = now() + maxMs;
    const sleep = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));
    while (this.counts.inFlight > 0 && now() < deadline) await sleep();
    const quietDeadline = Math.min(deadline, now() + MAX_QUIET_WAIT_MS);
    while (now() - this.lastArrival < QUIET_MS && now() < quietDeadline) await sleep();
  }
}
