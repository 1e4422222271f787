/**
 * Following a long-running ARM operation: the SDK's poller does the `Azure-AsyncOperation` /
 * `Location` polling and the final GET; this drives it one poll at a time so that it can print
 * each provisioning-state change, stop at an overall timeout (saying what state things were left
 * in), and turn a Failed/Canceled outcome into an AzureMlServiceError with the service's own code
 * and message.
 */
import { AzureMlInterruptedError, AzureMlServiceError, AzureMlTimeoutError, serviceErrorOf } from './errors.js';
import { armCall, type ArmResponse, type Workspace } from './workspace-client.js';

/** The part of the SDK's legacy PollerLike this uses. */
export interface PollerLikeLite<T> {
  poll(options?: { abortSignal?: AbortSignal }): Promise<void>;
  isDone(): boolean;
  stopPolling(): void;
  getResult(): T | undefined;
  getOperationState(): { isCancelled?: boolean; error?: Error };
}

export interface FollowOptions {
  /** Milliseconds between polls. */
  readonly pollIntervalMs: number;
  /** Overall milliseconds before giving up (the operation goes on in Azure). */
  readonly timeoutMs: number;
  /** One line per provisioning-state change. */
  readonly onStatus?: ((line: string) => void) | undefined;
  /** Stops following at once (Ctrl-C) with an AzureMlInterruptedError; the operation may go on in Azure. */
  readonly signal?: AbortSignal | undefined;
}

export interface Operation<T> {
  /** What is being done, e.g. `deployment blue of endpoint iris`. */
  readonly what: string;
  /** Sends the first request and returns the SDK's poller. */
  start(o: { updateIntervalInMs: number; abortSignal: AbortSignal }): Promise<PollerLikeLite<T>>;
  /** The resource's provisioning state now (undefined when it cannot be read), for progress lines. */
  probe?: () => Promise<string | undefined>;
}

/** Sleep that ends early when the signal fires. */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((r) => {
    if (signal?.aborted) return r();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      r();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** `The long-running operation has failed. <code>. <message>` (core-lro's wording) split into code and message. */
function lroFailure(e: unknown): { code: string | undefined; message: string } {
  const m = /^The long-running operation has failed\.\s*([^.\s]+)\.\s*([\s\S]*)$/.exec((e as Error | undefined)?.message ?? '');
  if (m) return { code: m[1], message: m[2]!.trim() };
  const s = serviceErrorOf(e);
  return { code: s.code, message: s.message };
}

/** Run an operation to its end, or throw AzureMlServiceError (failed) / AzureMlTimeoutError (too slow). */
export async function followOperation<T>(op: Operation<T>, o: FollowOptions): Promise<T | undefined> {
  const t0 = Date.now();
  const deadline = t0 + o.timeoutMs;
  const controller = new AbortController();
  const secs = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  let last: string | undefined;
  const report = async (): Promise<void> => {
    if (!op.probe) return;
    let state: string | undefined;
    try {
      state = await op.probe();
    } catch {
      return;
    }
    if (state !== undefined && state !== last) {
      last = state;
      o.onStatus?.(`${op.what}: ${state} (${secs()})`);
    }
  };
  const timer = setTimeout(() => controller.abort(), Math.max(1, o.timeoutMs));
  const interrupted = (): AzureMlInterruptedError =>
    new AzureMlInterruptedError(`interrupted while waiting for ${op.what} after ${secs()}${last ? ` (last seen: ${last})` : ''}`);
  const onAbort = (): void => controller.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let poller: PollerLikeLite<T> | undefined;
  try {
    if (o.signal?.aborted) throw interrupted();
    poller = await op.start({ updateIntervalInMs: o.pollIntervalMs, abortSignal: controller.signal });
    await report();
    while (!poller.isDone()) {
      if (o.signal?.aborted) throw interrupted();
      if (Date.now() >= deadline) break;
      await sleep(Math.min(o.pollIntervalMs, Math.max(0, deadline - Date.now())), controller.signal);
      if (o.signal?.aborted) throw interrupted();
      if (Date.now() >= deadline) break;
      await poller.poll({ abortSignal: controller.signal });
      await report();
    }
    if (!poller.isDone()) throw timeoutError(op, o, last);
    const state = poller.getOperationState();
    if (state.error) throw state.error;
    if (state.isCancelled) throw new AzureMlServiceError(`${op.what} was canceled by the service after ${secs()}`, { serviceCode: 'Canceled' });
    return poller.getResult();
  } catch (e) {
    if (e instanceof AzureMlServiceError || e instanceof AzureMlTimeoutError || e instanceof AzureMlInterruptedError) throw e;
    if (o.signal?.aborted) throw interrupted();
    if (controller.signal.aborted || (e as Error | undefined)?.name === 'AbortError') throw timeoutError(op, o, last);
    const f = lroFailure(e);
    const status = (e as { statusCode?: number } | undefined)?.statusCode;
    throw new AzureMlServiceError(`${op.what} failed${f.code ? ` (${f.code})` : ''}: ${f.message}`, { serviceCode: f.code, status, cause: e });
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    poller?.stopPolling();
  }
}

function timeoutError<T>(op: Operation<T>, o: FollowOptions, last: string | undefined): AzureMlTimeoutError {
  return new AzureMlTimeoutError(
    `${op.what} did not finish within ${(o.timeoutMs / 1000).toFixed(1)} s${last ? ` (last seen: ${last})` : ''}; the operation may still be running in Azure — check with \`mlmodel deploy azureml status\` or raise --timeout`,
    last,
  );
}

/**
 * The SDK-less long-running PUT/DELETE of an ARM resource, for bodies the SDK's serializer would cut
 * (mirrorTraffic): the first request through the package's ARM pipeline, then `Azure-AsyncOperation`
 * (status JSON) or else `Location` (202 until done) polled as core-lro does, then a GET of the
 * resource. It plugs into `followOperation`, so progress, timeout and error reporting are the same.
 */
export function armOperation(
  ws: Workspace,
  o: { what: string; method: 'PUT' | 'PATCH' | 'DELETE'; path: string; body?: unknown; probe?: () => Promise<string | undefined> },
): Operation<Record<string, unknown>> {
  const resourceUrl = `${ws.armHost}${o.path}?api-version=${ws.apiVersion}`;
  return {
    what: o.what,
    ...(o.probe ? { probe: o.probe } : {}),
    start: async ({ abortSignal }) => {
      const first = await armCall(ws, o.method, resourceUrl, o.body, abortSignal);
      if (first.status >= 400) throw armFailure(first, o.method);
      return new ArmPoller(ws, o.method, resourceUrl, first);
    },
  };
}

/** An error that followOperation reads like an SDK RestError (code, message, status). */
function armFailure(res: ArmResponse, method: string): Error {
  const s = serviceErrorOf({ statusCode: res.status, response: { bodyAsText: res.text }, message: `${method} answered HTTP ${res.status}` });
  return Object.assign(new Error(s.message), { code: s.code, statusCode: res.status });
}

class ArmPoller implements PollerLikeLite<Record<string, unknown>> {
  private done = false;
  private cancelled = false;
  private error: Error | undefined;
  private result: Record<string, unknown> | undefined;
  private readonly statusUrl: string | undefined;
  private readonly locationUrl: string | undefined;

  constructor(
    private readonly ws: Workspace,
    private readonly method: string,
    private readonly resourceUrl: string,
    first: ArmResponse,
  ) {
    this.statusUrl = first.headers['azure-asyncoperation'];
    this.locationUrl = first.headers.location;
    if (!this.statusUrl && !(this.locationUrl && first.status === 202)) {
      // answered at once (200/201/204 without an operation to follow)
      this.done = true;
      this.result = first.body;
    }
  }

  isDone(): boolean {
    return this.done;
  }

  stopPolling(): void {
    /* nothing runs between polls */
  }

  getResult(): Record<string, unknown> | undefined {
    return this.result;
  }

  getOperationState(): { isCancelled?: boolean; error?: Error } {
    return { isCancelled: this.cancelled, ...(this.error ? { error: this.error } : {}) };
  }

  async poll(options?: { abortSignal?: AbortSignal }): Promise<void> {
    if (this.done) return;
    const signal = options?.abortSignal;
    if (this.statusUrl) {
      const r = await armCall(this.ws, 'GET', this.statusUrl, undefined, signal);
      if (r.status >= 400) throw armFailure(r, 'GET operation status');
      const status = String(r.body.status ?? '');
      if (/^(InProgress|Running|Accepted|Creating|Updating|Deleting|NotStarted)$/i.test(status) || status === '') return;
      this.done = true;
      if (/^Succeeded$/i.test(status)) return this.finalGet(signal);
      if (/^Cancel(l)?ed$/i.test(status)) {
        this.cancelled = true;
        return;
      }
      const err = (r.body.error ?? {}) as { code?: string; message?: string };
      this.error = Object.assign(new Error(err.message ?? `the operation ended ${status}`), { code: err.code ?? status });
      return;
    }
    const r = await armCall(this.ws, 'GET', this.locationUrl!, undefined, signal);
    if (r.status === 202) return;
    this.done = true;
    if (r.status >= 400) {
      this.error = armFailure(r, 'GET operation result');
      return;
    }
    return this.finalGet(signal);
  }

  private async finalGet(signal: AbortSignal | undefined): Promise<void> {
    if (this.method === 'DELETE') return;
    const r = await armCall(this.ws, 'GET', this.resourceUrl, undefined, signal);
    if (r.status >= 400) this.error = armFailure(r, 'GET');
    else this.result = r.body;
  }
}
