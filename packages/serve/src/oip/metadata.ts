/** Server and model metadata (`GET /v2`, `GET /v2/models/{name}[/versions/{v}]`) from a model's signature. */
import type { ModelSignature, Schema } from '@mlmodel/format';
import { columnTypeDatatype, tensorSpecDatatype, type ContentType, type OipDatatype } from './datatype.js';

export const SERVER_NAME = 'mlmodel';
export const EXTENSIONS = ['binary_tensor_data'] as const;

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export interface MetadataTensor {
  readonly name: string;
  readonly datatype: OipDatatype;
  /** -1 marks a variable dimension. */
  readonly shape: readonly number[];
  /** MLServer's `content_type` (np, str, base64, datetime, pd_json). */
  readonly parameters: { readonly content_type: ContentType };
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions?: readonly string[];
  readonly platform: string;
  readonly inputs: readonly MetadataTensor[];
  readonly outputs: readonly MetadataTensor[];
}

export function serverMetadata(version: string): ServerMetadata {
  return { name: SERVER_NAME, version, extensions: [...EXTENSIONS] };
}

/** `<project>_<format>`: `onnx_onnxv1` for ONNX models, `mlflow_<flavor>` for the others. */
export function platformOf(flavor: string): string {
  return flavor === 'onnx' ? 'onnx_onnxv1' : `mlflow_${flavor}`;
}

/** The default name of the i-th unnamed input or output (MLServer's convention). */
export function defaultName(kind: 'input' | 'output', i: number): string {
  return `${kind}-${i}`;
}

/** Metadata tensors of a signature schema (none when the model has no signature). */
export function schemaTensors(schema: Schema | null, kind: 'input' | 'output'): MetadataTensor[] {
  if (!schema) return [];
  if (schema.kind === 'tensors') {
    return schema.specs.map((s, i) => {
      const { datatype, contentType } = tensorSpecDatatype(s);
      return { name: s.name ?? defaultName(kind, i), datatype, shape: [...s.shape], parameters: { content_type: contentType } };
    });
  }
  return schema.specs.map((s, i) => {
    const { datatype, contentType, innerShape } = columnTypeDatatype(s.type);
    return { name: s.name ?? defaultName(kind, i), datatype, shape: [-1, ...innerShape], parameters: { content_type: contentType } };
  });
}

export function modelMetadata(name: string, version: string | null, flavor: string, signature: ModelSignature | null): ModelMetadata {
  return {
    name,
    ...(version !== null ? { versions: [version] } : {}),
    platform: platformOf(flavor),
    inputs: schemaTensors(signature?.inputs ?? null, 'input'),
    outputs: schemaTensors(signature?.outputs ?? null, 'output'),
  };
}
