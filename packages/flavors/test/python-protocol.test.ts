import { describe, it, expect } from 'vitest';
import { Utf8Array, column, columnBatch, tensor, tensorBatch, type ColumnBatch } from '@mlmodel/format';
import { FrameDecoder, MessageType, encodeFrame, type Frame } from '../src/python/protocol.js';
import { decodeResultPayload, encodePredictPayload, splitDataPayload } from '../src/python/codec.js';
import { PythonProtocolError } from '../src/python/errors.js';
import { DICTIONARY_MIN_ROWS, encodeStringDictionary } from '../src/python/string-dictionary.js';

function concat(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

describe('python_function protocol framing', () => {
  it('reassembles frames split at every byte and glued together', () => {
    const a = concat(encodeFrame(MessageType.PING, 7));
    const b = concat(encodeFrame(MessageType.RESULT, 0xfffffffe, [Uint8Array.of(1, 2, 3), Uint8Array.of(4)]));
    const stream = Buffer.concat([a, b, a]);
    const dec = new FrameDecoder();
    const frames: Frame[] = [];
    for (let i = 0; i < stream.length; i++) frames.push(...dec.push(stream.subarray(i, i + 1)));
    expect(frames.map((f) => [f.type, f.id, Array.from(f.payload)])).toEqual([
      [MessageType.PING, 7, []],
      [MessageType.RESULT, 0xfffffffe, [1, 2, 3, 4]],
      [MessageType.PING, 7, []],
    ]);
    expect(dec.pending).toBe(0);
    expect(new FrameDecoder().push(stream)).toHaveLength(3);
  });

  it('refuses a frame length that cannot be', () => {
    const bad = Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(() => new FrameDecoder().push(bad)).toThrow(/invalid frame length 2/);
  });
});

describe('python_function data payloads', () => {
  it('lays buffers out 8-byte aligned and describes them in the JSON header', () => {
    const parts = encodePredictPayload(
      columnBatch([column('s', 'str', Utf8Array.fromStrings(['ab', 'c'])), column('x', 'float64', Float64Array.of(1.5, 2.5), Uint8Array.of(1, 0))]),
      { k: 1n },
    );
    const payload = new Uint8Array(concat(parts));
    const { header, buffer } = splitDataPayload(payload);
    expect(header.params).toEqual({ k: 1 });
    expect(header.data).toEqual({
      kind: 'columns',
      num_rows: 2,
      columns: [
        { name: 's', dtype: 'str', data: 0, offsets: 1 },
        { name: 'x', dtype: 'float64', data: 2, validity: 3 },
      ],
    });
    for (const [off] of header.buffers) expect(off % 8).toBe(0);
    expect(new TextDecoder().decode(buffer(0))).toBe('abc');
    expect(Array.from(new Int32Array(buffer(1).slice().buffer))).toEqual([0, 2, 3]);
    expect(Array.from(new Float64Array(buffer(2).slice().buffer))).toEqual([1.5, 2.5]);
    expect(Array.from(buffer(3))).toEqual([1, 0]);
    // the same layout decodes back (RESULT payloads use it too)
    const back = decodeResultPayload(payload) as ColumnBatch;
    expect(back.columns.map((c) => c.dtype)).toEqual(['str', 'float64']);
    expect((back.columns[0]!.values as Utf8Array).toArray()).toEqual(['ab', 'c']);
    expect(Array.from(back.columns[1]!.validity!)).toEqual([1, 0]);
  });

  it('rejects a payload whose tensor does not match its shape', () => {
    const parts = encodePredictPayload(tensorBatch([tensor(null, 'int32', [2], Int32Array.of(1, 2))]), null);
    const payload = new Uint8Array(concat(parts));
    const { header } = splitDataPayload(payload);
    const json = JSON.stringify({ ...header, data: { kind: 'tensors', tensors: [{ name: null, dtype: 'int32', shape: [3], data: 0 }] } });
    const bytes = Buffer.from(json);
    const lead = Buffer.alloc((4 + bytes.length + 7) & ~7);
    lead.writeUInt32LE(bytes.length, 0);
    bytes.copy(lead, 4);
    const forged = new Uint8Array(Buffer.concat([lead, Buffer.from(Int32Array.of(1, 2).buffer)]));
    expect(() => decodeResultPayload(forged)).toThrow(PythonProtocolError);
    expect(() => decodeResultPayload(forged)).toThrow(/int32 array \(unnamed\) has 2 values, expected 3/);
  });
});

describe('python_function protocol: dictionary-coded strings', () => {
  const dictOf = (values: string[]) => {
    const u = Utf8Array.fromStrings(values);
    return encodeStringDictionary(u.offsets, u.bytes, u.length);
  };
  const decoded = (d: NonNullable<ReturnType<typeof encodeStringDictionary>>) => {
    const distinct = new Utf8Array(d.offsets, d.bytes).toArray();
    return Array.from(d.codes, (c) => distinct[c]);
  };

  it('codes repeating values in order of first appearance and rebuilds them exactly', () => {
    const values = Array.from({ length: 1000 }, (_, i) => ['plus', '', 'pro', 'ü ✓', 'pro '][i % 5]!);
    const d = dictOf(values)!;
    expect(new Utf8Array(d.offsets, d.bytes).toArray()).toEqual(['plus', '', 'pro', 'ü ✓', 'pro ']);
    expect(decoded(d)).toEqual(values);
  });

  it('reads a sliced column from its own offsets', () => {
    const whole = Utf8Array.fromStrings(Array.from({ length: 1200 }, (_, i) => `v${i % 3}`));
    const offsets = whole.offsets.subarray(100, 1101); // rows 100..1099, offsets not starting at 0
    const d = encodeStringDictionary(offsets, whole.bytes, 1000)!;
    expect(decoded(d)).toEqual(Array.from({ length: 1000 }, (_, i) => `v${(i + 100) % 3}`));
  });

  it('leaves short columns and columns with more than one distinct value per 8 rows as they are', () => {
    expect(dictOf(Array.from({ length: DICTIONARY_MIN_ROWS - 1 }, () => 'same'))).toBeNull();
    expect(dictOf(Array.from({ length: DICTIONARY_MIN_ROWS }, () => 'same'))).not.toBeNull();
    expect(dictOf(Array.from({ length: 800 }, (_, i) => `v${i % 100}`))).not.toBeNull();
    expect(dictOf(Array.from({ length: 800 }, (_, i) => `v${i % 101}`))).toBeNull();
  });

  it('puts codes, distinct bytes and offsets on the wire for a repeating column', () => {
    const values = Array.from({ length: 512 }, (_, i) => (i % 2 ? 'yes' : 'no'));
    const parts = encodePredictPayload(columnBatch([column('answer', 'str', Utf8Array.fromStrings(values))]), null);
    const { header, buffer } = splitDataPayload(concat(parts));
    const col = (header.data as { columns: { codes?: number; data?: number; offsets?: number }[] }).columns[0]!;
    expect(col.codes).toBeDefined();
    expect(Buffer.from(buffer(col.data!)).toString()).toBe('noyes');
    const int32s = (i: number) => Array.from(new Int32Array(new Uint8Array(buffer(i)).buffer)); // copied: aligned
    expect(int32s(col.offsets!)).toEqual([0, 2, 5]);
    expect(int32s(col.codes!)).toEqual(values.map((v) => (v === 'no' ? 0 : 1)));
  });
});
