/**
 * Variable-length values stored like Arrow's Utf8/Binary layout: one contiguous byte buffer plus
 * `length + 1` int32 offsets. This is the layout Arrow, Parquet and the Python bridge all use,
 * so strings move between them without per-row objects.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }); // a value may start with U+FEFF

export class VarBinaryArray {
  readonly offsets: Int32Array;
  readonly bytes: Uint8Array;

  constructor(offsets: Int32Array, bytes: Uint8Array) {
    if (offsets.length === 0) throw new RangeError('offsets must have at least one entry');
    this.offsets = offsets;
    this.bytes = bytes;
  }

  get length(): number {
    return this.offsets.length - 1;
  }

  /** Raw bytes of row i (a view, not a copy). */
  bytesAt(i: number): Uint8Array {
    return this.bytes.subarray(this.offsets[i]!, this.offsets[i + 1]!);
  }

  static fromByteArrays(values: readonly (Uint8Array | null | undefined)[]): VarBinaryArray {
    let total = 0;
    for (const v of values) total += v ? v.byteLength : 0;
    const bytes = new Uint8Array(total);
    const offsets = new Int32Array(values.length + 1);
    let pos = 0;
    values.forEach((v, i) => {
      if (v) {
        bytes.set(v, pos);
        pos += v.byteLength;
      }
      offsets[i + 1] = pos;
    });
    return new VarBinaryArray(offsets, bytes);
  }

  /** Select rows `start..end` (copies only the offsets). */
  slice(start: number, end: number): this {
    const base = this.offsets[start]!;
    const offsets = new Int32Array(end - start + 1);
    for (let i = 0; i <= end - start; i++) offsets[i] = this.offsets[start + i]! - base;
    const Ctor = this.constructor as new (o: Int32Array, b: Uint8Array) => this;
    return new Ctor(offsets, this.bytes.subarray(base, this.offsets[end]!));
  }
}

/** UTF-8 strings. */
export class Utf8Array extends VarBinaryArray {
  get(i: number): string {
    return decoder.decode(this.bytesAt(i));
  }

  toArray(): string[] {
    const out = new Array<string>(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.get(i);
    return out;
  }

  static fromStrings(values: readonly (string | null | undefined)[]): Utf8Array {
    // Two passes: measure, then encode straight into one buffer.
    let total = 0;
    for (const v of values) if (v) total += v.length * 3;
    const buf = new Uint8Array(total);
    const offsets = new Int32Array(values.length + 1);
    let pos = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v) pos += encoder.encodeInto(v, buf.subarray(pos)).written;
      offsets[i + 1] = pos;
    }
    return new Utf8Array(offsets, buf.subarray(0, pos));
  }
}

/** Raw byte strings (MLflow `binary`). */
export class BinaryArray extends VarBinaryArray {
  get(i: number): Uint8Array {
    return this.bytesAt(i);
  }

  toArray(): Uint8Array[] {
    const out = new Array<Uint8Array>(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.get(i);
    return out;
  }

  static fromBuffers(values: readonly (Uint8Array | null | undefined)[]): BinaryArray {
    const v = VarBinaryArray.fromByteArrays(values);
    return new BinaryArray(v.offsets, v.bytes);
  }
}
