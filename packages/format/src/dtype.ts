/**
 * Element types of the in-memory batch, named like numpy dtypes because MLflow's
 * enforcement rules are written in numpy terms (see reference §2.3).
 */
export const NUMERIC_DTYPES = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'float32', 'float64'] as const;

export type NumericDType = (typeof NUMERIC_DTYPES)[number];

/** `str` and `bytes` are variable-length UTF-8 / binary; `object` holds arbitrary JSON-like values. */
export type DType = NumericDType | 'bool' | 'str' | 'bytes' | 'datetime64[ns]' | 'object';

export const ALL_DTYPES: readonly DType[] = [...NUMERIC_DTYPES, 'bool', 'str', 'bytes', 'datetime64[ns]', 'object'];

export function isDType(s: string): s is DType {
  return (ALL_DTYPES as readonly string[]).includes(s);
}

export type DTypeKind = 'b' | 'i' | 'u' | 'f' | 'U' | 'S' | 'M' | 'O';

/** numpy's `dtype.kind` for a dtype. */
export function dtypeKind(d: DType): DTypeKind {
  switch (d) {
    case 'bool':
      return 'b';
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      return 'i';
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64':
      return 'u';
    case 'float16':
    case 'float32':
    case 'float64':
      return 'f';
    case 'str':
      return 'U';
    case 'bytes':
      return 'S';
    case 'datetime64[ns]':
      return 'M';
    case 'object':
      return 'O';
  }
}

/** Largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

const SMALL_INT_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

/** The inclusive [min, max] of an integer dtype of at most 32 bits (undefined for any other dtype). */
export function smallIntRange(d: DType): readonly [number, number] | undefined {
  return SMALL_INT_RANGES[d];
}

/** numpy's `dtype.itemsize` for fixed-width dtypes (0 for variable-width ones). */
export function dtypeItemSize(d: DType): number {
  switch (d) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return 1;
    case 'int16':
    case 'uint16':
    case 'float16':
      return 2;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 4;
    case 'int64':
    case 'uint64':
    case 'float64':
    case 'datetime64[ns]':
      return 8;
    default:
      return 0;
  }
}

/** Map MLflow tensor-spec dtype names (numpy names and aliases) onto ours. Returns undefined when unknown. */
export function dtypeFromNumpyName(name: string): DType | undefined {
  const n = name.trim();
  const aliases: Record<string, DType> = {
    bool: 'bool',
    bool_: 'bool',
    int8: 'int8',
    int16: 'int16',
    int32: 'int32',
    int64: 'int64',
    uint8: 'uint8',
    uint16: 'uint16',
    uint32: 'uint32',
    uint64: 'uint64',
    float16: 'float16',
    float32: 'float32',
    float64: 'float64',
    str: 'str',
    str_: 'str',
    unicode: 'str',
    bytes: 'bytes',
    bytes_: 'bytes',
    object: 'object',
    'datetime64[ns]': 'datetime64[ns]',
    datetime64: 'datetime64[ns]',
  };
  return aliases[n];
}
