/**
 * The AWS resources a deployment creates, in the order it created them: a failed deploy removes
 * exactly these (in reverse), and the tags on each let `delete` find them again.
 */

export type ResourceKind = 's3-bucket' | 's3-object' | 'model' | 'endpoint-config' | 'endpoint' | 'scalable-target' | 'transform-job' | 'ecr-repository';

export interface ResourceRef {
  readonly kind: ResourceKind;
  /** Bucket name, s3://bucket/key, SageMaker name, or the scalable target's ResourceId. */
  readonly name: string;
}

/** Tag keys put on everything mlmodel creates. */
export const TAG_ENDPOINT = 'mlmodel:endpoint';
export const TAG_MODEL_URI = 'mlmodel:model-uri';
export const TAG_CREATED_BY = 'mlmodel:created-by';

/** A tag value AWS accepts (letters, digits, spaces and _ . : / = + - @; at most 256 characters). */
export function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);
}

/** An ordered record of created resources. */
export class CreatedResources {
  readonly #items: ResourceRef[] = [];

  add(kind: ResourceKind, name: string): void {
    this.#items.push({ kind, name });
  }

  remove(ref: ResourceRef): void {
    const i = this.#items.findIndex((r) => r.kind === ref.kind && r.name === ref.name);
    if (i >= 0) this.#items.splice(i, 1);
  }

  /** Oldest first. */
  list(): readonly ResourceRef[] {
    return [...this.#items];
  }
}

/** s3://bucket/key → { bucket, key }; anything else is null. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | null {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : null;
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
