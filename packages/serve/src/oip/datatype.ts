/**
 * Open Inference Protocol datatypes and their mapping onto the batch's dtypes and MLflow
 * signature types (MLServer's table for ColSpecs: string/binary/datetime → BYTES, integer →
 * INT32, long → INT64, float → FP32, double → FP64, boolean → BOOL).
 */
import { dtypeForColumnType, dtypeFromNumpyName, dtypeItemSize, type DType, type TensorSpec, type ValueType } from '@mlmodel/format';

export const OIP_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** MLServer's content types, carried in tensor `parameters.content_type`. */
export type ContentType = 'np' | 'str' | 'base64' | 'datetime' | 'pd_json';

export function isOipDatatype(s: unknown): s is OipDatatype {
  return typeof s === 'string' && (OIP_DATATYPES as readonly string[]).includes(s);
}

/** Bytes per element in the binary encoding; 0 for BYTES (length-prefixed, variable). */
export function elementSize(dt: OipDatatype): number {
  return dt === 'BYTES' ? 0 : dtypeItemSize(TO_DTYPE[dt]);
}

const TO_DTYPE: Readonly<Record<Exclude<OipDatatype, 'BYTES'>, DType>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
};

/** The batch dtype holding a fixed-size OIP datatype (BYTES becomes `str` or `bytes` depending on the model). */
export function fixedDType(dt: Exclude<OipDatatype, 'BYTES'>): DType {
  return TO_DTYPE[dt];
}

/** The OIP datatype of a batch dtype: strings, bytes, datetimes and objects travel as BYTES. */
export function oipDatatypeOf(d: DType): OipDatatype {
  for (const [oip, dtype] of Object.entries(TO_DTYPE)) if (dtype === d) return oip as OipDatatype;
  return 'BYTES';
}

/** The OIP datatype and content type of an MLflow tensor spec (unknown numpy names: BYTES). */
export function tensorSpecDatatype(spec: TensorSpec): { datatype: OipDatatype; contentType: ContentType } {
  const d = dtypeFromNumpyName(spec.dtype);
  if (d === 'datetime64[ns]') return { datatype: 'BYTES', contentType: 'datetime' };
  if (d === 'str') return { datatype: 'BYTES', contentType: 'str' };
  return { datatype: d === undefined ? 'BYTES' : oipDatatypeOf(d), contentType: 'np' };
}

/**
 * The OIP datatype, content type and trailing dims of an MLflow column type. Arrays of a
 * primitive type are a variable second dimension; objects, maps and Any travel as JSON text.
 */
export function columnTypeDatatype(t: ValueType): { datatype: OipDatatype; contentType: ContentType; innerShape: readonly number[] } {
  if (typeof t === 'string') {
    if (t === 'string') return { datatype: 'BYTES', contentType: 'str', innerShape: [] };
    if (t === 'binary') return { datatype: 'BYTES', contentType: 'base64', innerShape: [] };
    if (t === 'datetime') return { datatype: 'BYTES', contentType: 'datetime', innerShape: [] };
    return { datatype: oipDatatypeOf(dtypeForColumnType(t)), contentType: 'np', innerShape: [] };
  }
  if (t.type === 'array' && typeof t.items === 'string') {
    const inner = columnTypeDatatype(t.items);
    return { ...inner, innerShape: [-1] };
  }
  return { datatype: 'BYTES', contentType: 'pd_json', innerShape: [] };
}
