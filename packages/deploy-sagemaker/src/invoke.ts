/**
 * Calling an endpoint:
 *
 * - `invokeEndpoint`: the runtime's InvokeEndpoint with a JSON, CSV or Parquet (or Arrow) body,
 *   the content type from the file's extension unless given. A container error (SageMaker's
 *   ModelError, HTTP 424) becomes one line with the container's status and message.
 * - `invokeEndpointAsync`: for an endpoint with an AsyncInferenceConfig. The body is uploaded to
 *   S3 (or an s3:// input is used as is), InvokeEndpointAsync queues it, and the OutputLocation
 *   and FailureLocation objects are polled with progress and a timeout. The result is read, and
 *   the uploaded input is removed once the request has ended.
 * - `predict`: either of them, async when DescribeEndpoint shows an AsyncInferenceConfig (or
 *   when forced).
 */
import { randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import {
  InvokeEndpointAsyncCommand,
  InvokeEndpointCommand,
  type InvokeEndpointAsyncCommandOutput,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { contentTypeForFile } from '@mlmodel/format';
import { isNotFound, type AwsSession } from './clients.js';
import { describeEndpoint } from './endpoint-deploy.js';
import { AwsAccessDeniedError, AwsRequestError, DeployTimeoutError, ModelInvocationError, oneLine, SageMakerDeployError } from './errors.js';
import { checkName } from './naming.js';
import { parseS3Uri, s3Uri, TAG_CREATED_BY, TAG_ENDPOINT } from './resources.js';
import { callerIdentity, defaultBucketFor } from './setup.js';
import { waitFor, type WaitSettings } from './waiter.js';

export interface InvokeOptions {
  readonly endpointName: string;
  readonly body: Uint8Array;
  /** A MIME type or a short name (json, csv, parquet, arrow); default from `fileName`, else JSON. */
  readonly contentType?: string;
  readonly fileName?: string;
  readonly accept?: string;
  readonly targetVariant?: string;
  readonly customAttributes?: string;
  /**
   * Largest request body sent (default 6 MB, SageMaker's real-time limit; 4 MB on a serverless
   * endpoint). A larger body is refused here with a one-line error instead of SageMaker's 413.
   */
  readonly maxBodyBytes?: number;
}

/** InvokeEndpoint's request limit on a real-time endpoint (6 MB) and on a serverless one (4 MB). */
export const REALTIME_MAX_BODY_BYTES = 6 * 1024 * 1024;
export const SERVERLESS_MAX_BODY_BYTES = 4 * 1024 * 1024;

const mb = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MB`;

function checkBodySize(endpoint: string, size: number, max: number): void {
  if (size <= max) return;
  const kind = max <= SERVERLESS_MAX_BODY_BYTES ? 'a serverless endpoint' : 'a real-time endpoint';
  throw new SageMakerDeployError(
    `the request is ${mb(size)} (${size} bytes), but SageMaker accepts at most ${mb(max)} per InvokeEndpoint call on ${kind} (${endpoint}): split the input, use \`mlmodel deploy sagemaker batch-transform\`, or deploy with --async-output-path (async endpoints take up to 1 GB)`,
    'INVALID_PARAMETER_VALUE',
  );
}

export interface InvokeResult {
  readonly body: Buffer;
  readonly contentType: string | null;
  readonly invokedVariant: string | null;
  readonly customAttributes: string | null;
}

export async function invokeEndpoint(session: AwsSession, o: InvokeOptions): Promise<InvokeResult> {
  checkName(o.endpointName, 'endpoint name');
  const contentType = contentTypeForFile(o.fileName ?? 'input.json', o.contentType);
  checkBodySize(o.endpointName, o.body.length, o.maxBodyBytes ?? REALTIME_MAX_BODY_BYTES);
  let r: InvokeEndpointCommandOutput;
  try {
    r = await session.send<InvokeEndpointCommandOutput>(
      'runtime',
      new InvokeEndpointCommand({
        EndpointName: o.endpointName,
        Body: o.body,
        ContentType: contentType,
        ...(o.accept ? { Accept: o.accept } : {}),
        ...(o.targetVariant ? { TargetVariant: o.targetVariant } : {}),
        ...(o.customAttributes ? { CustomAttributes: o.customAttributes } : {}),
      }),
    );
  } catch (e) {
    if (e instanceof AwsRequestError && e.awsErrorName === 'ModelError') {
      const raw = e.cause as { OriginalStatusCode?: number; OriginalMessage?: string; message?: string; LogStreamArn?: string };
      const code = raw.OriginalStatusCode ?? null;
      const msg = session.redact(oneLine(raw.OriginalMessage ?? raw.message ?? ''));
      throw new ModelInvocationError(
        `the model on ${o.endpointName} answered ${code ?? 'an error'}: ${msg}${raw.LogStreamArn ? ` (logs: ${raw.LogStreamArn})` : ''}`,
        code,
        { cause: e },
      );
    }
    throw e;
  }
  return {
    body: Buffer.from(r.Body ?? new Uint8Array()),
    contentType: r.ContentType ?? null,
    invokedVariant: r.InvokedProductionVariant ?? null,
    customAttributes: r.CustomAttributes ?? null,
  };
}

export interface AsyncInvokeOptions extends Omit<InvokeOptions, 'targetVariant' | 'maxBodyBytes'> {
  /** An input already in S3 (s3://bucket/key): used as is, not uploaded and not removed. */
  readonly inputLocation?: string;
  /** Where the body is uploaded (default mlmodel-sagemaker-<region>-<account>, key `<endpoint>/async-inputs/…`). */
  readonly bucket?: string;
  readonly inferenceId?: string;
  /** Polling of the output: interval and timeout (default 5 s, 1200 s). */
  readonly wait?: WaitSettings;
  readonly onStatus?: (line: string) => void;
}

export interface AsyncInvokeResult extends InvokeResult {
  readonly inferenceId: string | null;
  readonly inputLocation: string;
  readonly outputLocation: string;
  readonly failureLocation: string | null;
  /** Whether the uploaded input was removed again (false for a given `inputLocation`). */
  readonly inputRemoved: boolean;
}

async function exists(session: AwsSession, uri: string): Promise<boolean> {
  const loc = parseS3Uri(uri)!;
  try {
    await session.send('s3', new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

async function read(session: AwsSession, uri: string): Promise<{ body: Buffer; contentType: string | null }> {
  const loc = parseS3Uri(uri)!;
  const r = await session.send<GetObjectCommandOutput>('s3', new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
  return { body: Buffer.from(await r.Body!.transformToByteArray()), contentType: r.ContentType ?? null };
}

export async function invokeEndpointAsync(session: AwsSession, o: AsyncInvokeOptions): Promise<AsyncInvokeResult> {
  checkName(o.endpointName, 'endpoint name');
  const status = o.onStatus ?? (() => undefined);
  const wait = o.wait ?? {};
  const contentType = contentTypeForFile(o.fileName ?? 'input.json', o.contentType);
  if (o.inputLocation !== undefined && !parseS3Uri(o.inputLocation)?.key)
    throw new SageMakerDeployError(`--input-location must be s3://bucket/key, got ${o.inputLocation}`);

  let inputLocation = o.inputLocation;
  let uploaded = false;
  if (!inputLocation) {
    const bucket = o.bucket ?? (await defaultBucketFor(session, await callerIdentity(session)));
    const ext = extname(o.fileName ?? '') || '.bin';
    const key = `${o.endpointName}/async-inputs/${randomUUID()}${ext}`;
    inputLocation = s3Uri(bucket, key);
    status(`uploading the request (${o.body.length} bytes) to ${inputLocation}`);
    try {
      await session.send(
        's3',
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: o.body,
          ContentType: contentType,
          Tagging: new URLSearchParams({ [TAG_ENDPOINT]: o.endpointName, [TAG_CREATED_BY]: 'mlmodel deploy sagemaker predict' }).toString(),
        }),
      );
    } catch (e) {
      if (e instanceof AwsRequestError && e.awsErrorName === 'NoSuchBucket')
        throw new SageMakerDeployError(
          `bucket ${bucket} does not exist: pass --bucket (a bucket SageMaker's role can read) or --input-location`,
          'INVALID_PARAMETER_VALUE',
          {
            cause: e,
          },
        );
      throw e;
    }
    uploaded = true;
  }
  const removeInput = async (): Promise<boolean> => {
    if (!uploaded) return false;
    const loc = parseS3Uri(inputLocation)!;
    try {
      await session.send('s3', new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return true;
    } catch (e) {
      status(`warning: could not remove the uploaded request ${inputLocation}: ${(e as Error).message}`);
      return false;
    }
  };

  let r: InvokeEndpointAsyncCommandOutput;
  try {
    r = await session.send<InvokeEndpointAsyncCommandOutput>(
      'runtime',
      new InvokeEndpointAsyncCommand({
        EndpointName: o.endpointName,
        InputLocation: inputLocation,
        ContentType: contentType,
        ...(o.accept ? { Accept: o.accept } : {}),
        ...(o.customAttributes ? { CustomAttributes: o.customAttributes } : {}),
        ...(o.inferenceId ? { InferenceId: o.inferenceId } : {}),
      }),
    );
  } catch (e) {
    await removeInput();
    throw e;
  }
  const id = r.InferenceId ?? null;
  const output = r.OutputLocation;
  const failure = r.FailureLocation ?? null;
  if (!output) {
    await removeInput();
    throw new SageMakerDeployError(`InvokeEndpointAsync on ${o.endpointName} returned no OutputLocation`);
  }
  status(`queued request ${id ?? '?'}: waiting for ${output}${failure ? ` or ${failure}` : ''}`);

  let state: 'queued' | 'done' | 'failed';
  try {
    state = await waitFor(
      `async request ${id ?? ''} on ${o.endpointName}`.replace('  ', ' '),
      async (): Promise<'queued' | 'done' | 'failed'> => {
        if (await exists(session, output)) return 'done';
        if (failure && (await exists(session, failure))) return 'failed';
        return 'queued';
      },
      (s) => s !== 'queued',
      (s) => s,
      wait,
      status,
    );
  } catch (e) {
    if (e instanceof DeployTimeoutError) {
      // the request may still run: its input must stay where SageMaker will read it
      throw new DeployTimeoutError(
        `${e.message}; SageMaker may still run it: its result will be at ${output}${failure ? ` (or its error at ${failure})` : ''}${uploaded ? `; the request stays at ${inputLocation}` : ''}${failure ? '' : '; the endpoint has no S3FailurePath, so a failed request shows only as this timeout'}`,
        e.lastStatus,
      );
    }
    throw e;
  }
  if (state === 'failed') {
    const f = await read(session, failure!);
    await removeInput();
    throw new ModelInvocationError(
      `the model on ${o.endpointName} failed async request ${id ?? '?'}: ${session.redact(oneLine(f.body.toString('utf8'))).slice(0, 2000)} (${failure})`,
      null,
    );
  }
  const out = await read(session, output);
  const inputRemoved = await removeInput();
  return {
    body: out.body,
    contentType: out.contentType,
    invokedVariant: null,
    customAttributes: null,
    inferenceId: id,
    inputLocation,
    outputLocation: output,
    failureLocation: failure,
    inputRemoved,
  };
}

export interface PredictOptions extends InvokeOptions, Omit<AsyncInvokeOptions, keyof InvokeOptions> {
  /** true: InvokeEndpointAsync; false: InvokeEndpoint; default: async when the endpoint has an AsyncInferenceConfig. */
  readonly async?: boolean;
}

export type PredictResult = (InvokeResult & { readonly mode: 'sync' }) | (AsyncInvokeResult & { readonly mode: 'async' });

/** InvokeEndpoint, or InvokeEndpointAsync for an async endpoint (from DescribeEndpoint, or forced with `async`). */
export async function predict(session: AwsSession, o: PredictOptions): Promise<PredictResult> {
  checkName(o.endpointName, 'endpoint name');
  let useAsync = o.async;
  let maxBodyBytes = o.maxBodyBytes;
  if (useAsync === undefined) {
    try {
      const d = await describeEndpoint(session, o.endpointName);
      if (!d) throw new SageMakerDeployError(`endpoint ${o.endpointName} does not exist in ${await session.region()}`, 'RESOURCE_DOES_NOT_EXIST');
      useAsync = Boolean(d.AsyncInferenceConfig?.OutputConfig);
      if (maxBodyBytes === undefined && (d.ProductionVariants ?? []).some((v) => v.CurrentServerlessConfig)) maxBodyBytes = SERVERLESS_MAX_BODY_BYTES;
    } catch (e) {
      // a caller allowed only to invoke: the synchronous call is the likely one
      if (!(e instanceof AwsAccessDeniedError)) throw e;
      o.onStatus?.(`cannot read the endpoint (${e.action} denied), so calling it synchronously; pass --async for an async endpoint`);
      useAsync = false;
    }
  }
  if (useAsync) {
    if (o.targetVariant) throw new SageMakerDeployError('--target-variant does not apply to an async endpoint');
    const { targetVariant: _t, async: _a, maxBodyBytes: _m, ...rest } = o;
    return { mode: 'async', ...(await invokeEndpointAsync(session, rest)) };
  }
  return { mode: 'sync', ...(await invokeEndpoint(session, { ...o, ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}) })) };
}
