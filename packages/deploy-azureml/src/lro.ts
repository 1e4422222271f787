/**
 * Following a long-running ARM operation: the SDK's poller does the `Azure-AsyncOperation` /
 * `Location` polling and the final GET; this drives it one poll at a time so that it can print
 * each provisioning-state change, stop at an overall timeout (saying what state things were left
 * in), and turn a Failed/Canceled outcome into an AzureMlServiceError with the service's own code
 * and message.
 */
import { AzureMlServiceError, AzureMlTimeoutError, serviceErrorOf } from './errors.js';

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
}

export interface Operation<T> {
  /** What is being done, e.g. `deployment blue of endpoint iris`. */
  readonly what: string;
  /** Sends the first request and returns the SDK's poller. */
  start(o: { updateIntervalInMs: number; abortSignal: AbortSignal }): Promise<PollerLikeLite<T>>;
  /** The resource's provisioning state now (undefined when it cannot be read), for progress lines. */
  probe?: () => Promise<string | undefined>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
  let poller: PollerLikeLite<T> | undefined;
  try {
    poller = await op.start({ updateIntervalInMs: o.pollIntervalMs, abortSignal: controller.signal });
    await report();
    while (!poller.isDone()) {
      if (Date.now() >= deadline) break;
      await sleep(Math.min(o.pollIntervalMs, Math.max(0, deadline - Date.now())));
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
    if (e instanceof AzureMlServiceError || e instanceof AzureMlTimeoutError) throw e;
    if (controller.signal.aborted || (e as Error | undefined)?.name === 'AbortError') throw timeoutError(op, o, last);
    const f = lroFailure(e);
    const status = (e as { statusCode?: number } | undefined)?.statusCode;
    throw new AzureMlServiceError(`${op.what} failed${f.code ? ` (${f.code})` : ''}: ${f.message}`, { serviceCode: f.code, status, cause: e });
  } finally {
    clearTimeout(timer);
    poller?.stopPolling();
  }
}

function timeoutError<T>(op: Operation<T>, o: FollowOptions, last: string | undefined): AzureMlTimeoutError {
  return new AzureMlTimeoutError(
    `${op.what} did not finish within ${(o.timeoutMs / 1000).toFixed(1)} s${last ? ` (last seen: ${last})` : ''}; the operation may still be running in Azure — check with \`mlmodel deploy azureml status\` or raise --timeout`,
    last,
  );
}
