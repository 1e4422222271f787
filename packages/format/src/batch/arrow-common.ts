/**
 * Pieces shared by both directions of the Arrow conversion (`batch-to-arrow.ts`, `arrow-to-batch.ts`):
 * metadata keys, validity bitmap packing, half floats and the tagged JSON used for `object` columns
 * that have no Arrow-native shape.
 */

/** Field metadata: the Utf8 column holds one JSON document per row (an `object` column). */
export const META_JSON = 'mlmodel:json';
/** Field metadata: JSON array with the original shape of a tensor. */
export const META_TENSOR_SHAPE = 'mlmodel:tensor_shape';
/** Field metadata: the tensor had no name (MLflow's single unnamed ndarray). */
export const META_UNNAMED = 'mlmodel:unnamed';
/** Schema metadata: `tensors` when the table encodes a TensorBatch. */
export const META_BATCH = 'mlmodel:batch';
/** Field name used for an unnamed tensor. */
export const UNNAMED_TENSOR_FIELD = 'tensor';

/** Pack one byte per value (non-zero = set) into an LSB-first bitmap, as Arrow stores bools and validity. */
export function packBits(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (bytes[i] !== 0) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** One byte per value (0/1) from an LSB-first bitmap, starting at bit `offset`. */
export function unpackBits(bitmap: Uint8Array, offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const bit = offset + i;
    out[i] = (bitmap[bit >> 3]! >> (bit & 7)) & 1;
  }
  return out;
}

/** Arrow null bitmap and null count for a 1-byte-per-row validity mask (no bitmap when every row is valid). */
export function packValidity(validity: Uint8Array | undefined, n: number): { nullBitmap?: Uint8Array; nullCount: number } {
  if (!validity) return { nullCount: 0 };
  let nullCount = 0;
  for (let i = 0; i < n; i++) if (validity[i] === 0) nullCount++;
  return nullCount === 0 ? { nullCount: 0 } : { nullBitmap: packBits(validity, n), nullCount };
}

/** Half-float bits of a quiet NaN (what we store under null float16 slots). */
export const HALF_NAN = 0x7e00;

/*
 * Tagged JSON. Plain JSON loses bigints (throws), byte strings, NaN/±Infinity, -0 and Dates, all of which
 * can appear in `object` columns. Those values become single-key objects `{"$mlmodel:<tag>": "<text>"}`;
 * a user object that itself has exactly one `$mlmodel:`-prefixed key is wrapped in `{"$mlmodel:object": …}`
 * so decoding is unambiguous. Decoding walks top-down, so wrapped objects are never reinterpreted.
 */
const TAG = '$mlmodel:';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function singleTagKey(v: Record<string, unknown>): string | undefined {
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0]!.startsWith(TAG) ? keys[0] : undefined;
}

export function encodeTaggedJson(value: unknown): string {
  const wrappers = new WeakSet<object>();
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown): unknown {
    const raw = this[key]; // before toJSON (Buffer and Date define one)
    if (typeof raw === 'bigint') return { [`${TAG}bigint`]: raw.toString() };
    if (raw instanceof Uint8Array) return { [`${TAG}bytes`]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
    if (raw instanceof Date) return { [`${TAG}date`]: Number.isNaN(raw.getTime()) ? 'NaN' : raw.toISOString() };
    if (typeof raw === 'number' && (!Number.isFinite(raw) || Object.is(raw, -0))) return { [`${TAG}number`]: Object.is(raw, -0) ? '-0' : String(raw) };
    if (isPlainObject(v) && !wrappers.has(this) && singleTagKey(v) !== undefined) {
      const wrapper = { [`${TAG}object`]: v };
      wrappers.add(wrapper);
      return wrapper;
    }
    return v;
  }) as string | undefined;
  return text ?? 'null';
}

export function decodeTaggedJson(text: string): unknown {
  return untag(JSON.parse(text));
}

function untag(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(untag);
  if (!isPlainObject(v)) return v;
  const tag = singleTagKey(v);
  if (tag !== undefined) {
    const payload = v[tag];
    switch (tag.slice(TAG.length)) {
      case 'object':
        return untagEntries(payload as Record<string, unknown>);
      case 'bigint':
        return BigInt(payload as string);
      case 'bytes':
        return new Uint8Array(Buffer.from(payload as string, 'base64'));
      case 'number':
        return payload === '-0' ? -0 : Number(payload);
      case 'date':
        return new Date(payload === 'NaN' ? NaN : (payload as string));
    }
  }
  return untagEntries(v);
}

function untagEntries(v: Record<string, unknown>): Record<string, unknown> {
  // fromEntries defines own properties, so a "__proto__" key stays a plain key.
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, untag(x)]));
}

export { isPlainObject };
