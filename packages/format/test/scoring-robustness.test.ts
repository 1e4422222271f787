/**
 * Hostile bodies: every failure must be a ScoringRequestError (400/413/415) — never another
 * exception, a crash or a hang — for truncated, corrupted and random bodies of every content
 * type, deep nesting, huge numbers and oversized bodies.
 */
import * as arrow from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import { Utf8Array } from '../src/batch/string-array.js';
import type { Batch } from '../src/batch/types.js';
import { batchToIPC } from '../src/batch/arrow.js';
import type { ColSpec, Schema, TensorSpec } from '../src/signature/types.js';
import { parseScoringRequest, ScoringRequestError } from '../src/scoring/index.js';
import { rng } from '../../../test/support/test-data.js';
import { asTensors } from './batch-asserts.js';

const enc = new TextEncoder();
const colSchema: Schema = {
  kind: 'columns',
  specs: [
    { kind: 'column', name: 'a', type: 'double', required: true },
    { kind: 'column', name: 'b', type: 'string', required: false },
    { kind: 'column', name: 'c', type: 'long', required: false },
  ] satisfies ColSpec[],
};
const tensorSchema: Schema = { kind: 'tensors', specs: [{ kind: 'tensor', name: null, dtype: 'float32', shape: [-1, 2] }] satisfies TensorSpec[] };

/** Parse and report the outcome: 'ok' or the HTTP status of a ScoringRequestError; anything else fails the test. */
async function outcome(body: Uint8Array, type: string, schema: Schema | null): Promise<'ok' | number> {
  try {
    await parseScoringRequest(body, type, schema);
    return 'ok';
  } catch (e) {
    if (!(e instanceof ScoringRequestError)) {
      throw new Error(`${type} body ${Buffer.from(body.subarray(0, 80)).toString('hex')} threw ${String(e)}`, { cause: e });
    }
    expect([400, 413, 415]).toContain(e.httpStatus);
    expect(e.message.length).toBeLessThan(20_000);
    return e.httpStatus;
  }
}

const JSON_BODIES = [
  '{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1.5, "x", 3], [NaN, null, -4]]}, "params": {"k": 1}}',
  '{"dataframe_records": [{"a": 1, "b": "\\u00e9\\ud83d\\ude00", "c": 2}, {"a": 2.5e10}]}',
  '{"instances": [{"a": 1.0, "c": 2}, {"a": -Infinity, "c": 3}]}',
  '{"inputs": {"a": [1, 2], "b": ["x", "y"]}}',
  '{"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}',
];

describe('truncated and corrupted bodies', () => {
  it('every prefix of valid JSON requests', async () => {
    for (const text of JSON_BODIES) {
      const bytes = enc.encode(text);
      for (let n = 0; n < bytes.length; n++) {
        const r = await outcome(bytes.subarray(0, n), 'application/json', colSchema);
        expect(r).toBe(400);
      }
      expect(await outcome(bytes, 'application/json', colSchema)).toBe('ok');
    }
  });

  it('random byte flips in JSON requests', async () => {
    const rand = rng(1);
    for (let k = 0; k < 2000; k++) {
      const bytes = enc.encode(JSON_BODIES[k % JSON_BODIES.length]!);
      for (let f = 0; f < 1 + (k % 4); f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      await outcome(bytes, 'application/json', k % 2 ? colSchema : null);
    }
  });

  it('every prefix of a CSV request, and byte flips', async () => {
    const bytes = enc.encode('a,b,c\r\n1.5,"x, ""y""",3\n2,,4\n"3",z,\n');
    for (let n = 0; n <= bytes.length; n++) {
      for (const schema of [null, colSchema]) await outcome(bytes.subarray(0, n), 'text/csv', schema);
    }
    const rand = rng(2);
    for (let k = 0; k < 1000; k++) {
      const b = bytes.slice();
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      await outcome(b, 'text/csv', k % 2 ? colSchema : null);
    }
  });

  it('Arrow stream and file bodies cut anywhere, and with flipped bytes', async () => {
    const batch: Batch = {
      kind: 'columns',
      numRows: 3,
      columns: [
        { name: 'a', dtype: 'float64', values: Float64Array.from([1, 2, 3]) },
        { name: 'b', dtype: 'str', values: Utf8Array.fromStrings(['x', 'yy', 'zzz']) },
      ],
    };
    const rand = rng(3);
    for (const format of ['stream', 'file'] as const) {
      const bytes = batchToIPC(batch, format);
      for (let n = 0; n < bytes.length; n += 3) await outcome(bytes.subarray(0, n), `application/vnd.apache.arrow.${format}`, null);
      for (let k = 0; k < 500; k++) {
        const b = bytes.slice();
        b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        await outcome(b, `application/vnd.apache.arrow.${format}`, colSchema);
      }
    }
  });

  it('Parquet bodies cut anywhere, and with flipped bytes', async () => {
    const table = arrow.tableFromArrays({ a: Float64Array.from([1, 2, 3]), c: BigInt64Array.from([1n, 2n, 3n]) });
    const bytes = writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(table, 'stream')));
    for (let n = 0; n < bytes.length; n += 37) expect(await outcome(bytes.subarray(0, n), 'application/vnd.apache.parquet', null)).toBe(400);
    const rand = rng(4);
    for (let k = 0; k < 150; k++) {
      const b = bytes.slice();
      for (let f = 0; f < 3; f++) b[4 + Math.floor(rand() * (b.length - 8))] = Math.floor(rand() * 256);
      await outcome(b, 'application/vnd.apache.parquet', colSchema);
    }
    expect(await outcome(bytes, 'application/vnd.apache.parquet', colSchema)).toBe('ok');
  });

  it('random garbage of every content type', async () => {
    const rand = rng(5);
    const types = [
      'application/json',
      'text/csv',
      'application/vnd.apache.parquet',
      'application/vnd.apache.arrow.stream',
      'application/vnd.apache.arrow.file',
    ];
    for (let k = 0; k < 300; k++) {
      const n = Math.floor(rand() ** 3 * 4096);
      const b = new Uint8Array(n).map(() => Math.floor(rand() * 256));
      if (k % 3 === 0 && n >= 8) b.set([0x50, 0x41, 0x52, 0x31]); // PAR1 at both ends
      if (k % 3 === 0 && n >= 8) b.set([0x50, 0x41, 0x52, 0x31], n - 4);
      await outcome(b, types[k % types.length]!, k % 2 ? colSchema : tensorSchema);
    }
  });
});

describe('pathological JSON', () => {
  it('100k nested brackets are refused quickly at the depth limit', async () => {
    for (const text of ['['.repeat(100_000), `{"inputs": ${'['.repeat(100_000)}1${']'.repeat(100_000)}}`, '{"a":'.repeat(100_000)]) {
      const t0 = performance.now();
      const e = await parseScoringRequest(enc.encode(text), 'application/json', null).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ScoringRequestError);
      expect((e as ScoringRequestError).message).toContain('deeper than the limit of 64 levels');
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });

  it('nesting within the limit is fine (a rank-60 tensor); maxDepth is configurable', async () => {
    const text = `{"inputs": ${'['.repeat(60)}1.5${']'.repeat(60)}}`;
    const t = asTensors((await parseScoringRequest(enc.encode(text), 'application/json', null)).batch as Batch).tensors[0]!;
    expect(t.shape).toEqual(new Array(60).fill(1));
    await expect(parseScoringRequest(enc.encode(text), 'application/json', null, { maxDepth: 10 })).rejects.toThrow(/deeper than the limit of 10/);
  });

  it('huge and tiny numbers behave like Python float(); huge integers are exact', async () => {
    const t = asTensors((await parseScoringRequest(enc.encode('{"inputs": [1e400, -1e400, 1e-400, 0.1]}'), 'application/json', null)).batch as Batch)
      .tensors[0]!;
    expect(Array.from(t.values as Float64Array)).toEqual([Infinity, -Infinity, 0, 0.1]);
    const big = asTensors((await parseScoringRequest(enc.encode(`{"inputs": [${'9'.repeat(30)}]}`), 'application/json', null)).batch as Batch).tensors[0]!;
    expect(big).toMatchObject({ dtype: 'object', values: [BigInt('9'.repeat(30))] });
  });

  it('long strings, wide objects and many rows parse in linear time', async () => {
    const wide = `{"dataframe_records": [{${Array.from({ length: 20_000 }, (_, i) => `"c${i}": ${i}`).join(', ')}}]}`;
    const rows = `{"inputs": [${Array.from({ length: 200_000 }, (_, i) => `[${i}.5, ${i}]`).join(', ')}]}`;
    const long = `{"inputs": ["${'x'.repeat(5_000_000)}"]}`;
    for (const text of [wide, rows, long]) {
      const t0 = performance.now();
      await parseScoringRequest(enc.encode(text), 'application/json', null);
      expect(performance.now() - t0).toBeLessThan(3000);
    }
  });

  it('cells built to make regular expressions backtrack stay linear', async () => {
    const digits = `${'1'.repeat(300_000)}x`;
    const spaces = `1${' '.repeat(300_000)}x`;
    const b64 = `AAAA${'\n'.repeat(1_000_000)}!`;
    const cases: [string, string, Schema | null][] = [
      ['text/csv', `a\n${digits}\n${spaces}\n`, null],
      ['text/csv', `a\n${digits}\n`, { kind: 'columns', specs: [{ kind: 'column', name: 'a', type: 'double', required: true }] }],
      ['text/csv', `a\n${'9'.repeat(300_000)}\n`, { kind: 'columns', specs: [{ kind: 'column', name: 'a', type: 'long', required: true }] }],
      [
        'application/json',
        JSON.stringify({ dataframe_split: { columns: ['x'], data: [[b64]] } }),
        { kind: 'columns', specs: [{ kind: 'column', name: 'x', type: 'binary', required: true }] },
      ],
    ];
    for (const [type, text, schema] of cases) {
      const t0 = performance.now();
      await outcome(enc.encode(text), type, schema);
      expect(performance.now() - t0).toBeLessThan(2000);
    }
  });

  it('a body over maxBytes is a 413 before any parsing', async () => {
    const e = await parseScoringRequest(new Uint8Array(1001), 'application/json', null, { maxBytes: 1000 }).catch((x: unknown) => x as ScoringRequestError);
    expect(e).toBeInstanceOf(ScoringRequestError);
    expect((e as ScoringRequestError).httpStatus).toBe(413);
    expect((e as ScoringRequestError).message).toBe('The request is too large: the body has 1001 bytes, more than the limit of 1000.');
  });

  it('an echo of a huge invalid body stays short', async () => {
    const e = (await parseScoringRequest(enc.encode(`{"inputs": [${'1,'.repeat(1_000_000)}]}`), 'application/json', null).catch(
      (x: unknown) => x,
    )) as ScoringRequestError;
    expect(e).toBeInstanceOf(ScoringRequestError);
    expect(e.message.length).toBeLessThan(1000);
    expect(e.message).toMatch(/\.\.\. \(2000014 bytes\)\n$/);
  });
});
