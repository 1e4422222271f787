/**
 * `invokeEndpoint`: the runtime's InvokeEndpoint with a JSON, CSV or Parquet (or Arrow) body,
 * the content type from the file's extension unless given. A container error (SageMaker's
 * ModelError, HTTP 424) becomes one line with the container's status and message.
 */
import { InvokeEndpointCommand, type InvokeEndpointCommandOutput } from '@aws-sdk/client-sagemaker-runtime';
import { contentTypeForFile } from '@mlmodel/format';
import type { AwsSession } from './clients.js';
import { AwsRequestError, ModelInvocationError, oneLine } from './errors.js';
import { checkName } from './naming.js';

export interface InvokeOptions {
  readonly endpointName: string;
  readonly body: Uint8Array;
  /** A MIME type or a short name (json, csv, parquet, arrow); default from `fileName`, else JSON. */
  readonly contentType?: string;
  readonly fileName?: string;
  readonly accept?: string;
  readonly targetVariant?: string;
  readonly customAttributes?: string;
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
