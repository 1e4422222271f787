/**
 * The chunked CSV reader against the whole-body request parser (one CSV implementation): files
 * larger than the reader's 1 MiB pieces, with quoted newlines, `\r\n` and multi-byte characters
 * cut by piece boundaries and by chunk boundaries, read the same; errors name the same lines and
 * byte offsets; column types stay fixed across chunks.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnBatch } from '../src/batch/types.js';
import { ScoringRequestError } from '../src/scoring/errors.js';
import { parseCsvRequest } from '../src/scoring/csv-request.js';
import type { ColSpec, Schema } from '../src/signature/types.js';
import { CsvChunker } from '../src/table/csv-chunker.js';
import { openTableReader, TableReadError } from '../src/table/index.js';
import { expectChunkLayout, readChunks, rowsOf, tempDir } from './table-fixtures.js';

const PIECE = 1024 * 1024; // the CSV reader's piece size
const enc = new TextEncoder();
const cs = (name: string, type: ColSpec['type']): ColSpec => ({ kind: 'column', name, type, required: false });
const SCHEMA: Schema = { kind: 'columns', specs: [cs('id', 'long'), cs('note', 'string'), cs('x', 'double'), cs('tag', 'string')] };

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('table-csv');
});
afterAll(async () => {
  await tmp.cleanup();
});

/** CSV text built row by row, tracking its length in bytes. */
class Body {
  private readonly parts: string[] = [];
  bytes = 0;
  private id = 0;

  push(s: string): void {
    this.parts.push(s);
    this.bytes += Buffer.byteLength(s);
  }

  nextId(): number {
    return this.id++;
  }

  /** Ordinary rows (every 50th with a quoted field holding a newline, a doubled quote and a comma) until about `until` bytes. */
  fill(until: number): void {
    while (this.bytes < until - 200) {
      const k = this.nextId();
      this.push(k % 50 === 0 ? `${k},"multi\nline ""quoted"", with comma",${k / 4},é\n` : `${k},n${k},${k * 0.5},t${k % 7}\n`);
    }
  }

  /** Pad with one row so that the next row starts exactly at byte `target`. */
  padTo(target: number): void {
    const id = this.nextId();
    const fixed = Buffer.byteLength(`${id},,2.5,t\n`);
    this.push(`${id},${'p'.repeat(target - this.bytes - fixed)},2.5,t\n`);
    expect(this.bytes).toBe(target);
  }

  text(): string {
    return this.parts.join('');
  }
}

/**
 * A CSV body of about 3.25 MiB whose piece boundaries fall (1) inside a quoted field that spans
 * several lines, (2) between the `\r` and `\n` of a record end, (3) inside a 4-byte UTF-8
 * character; every 50th row has a quoted field with a newline, a doubled quote and a comma.
 */
function trickyBody(): Uint8Array {
  const b = new Body();
  b.push('id,note,x,tag\r\n');
  // (1) a quoted field from about 20 bytes before the first boundary to well after it, with newlines on both sides.
  b.fill(PIECE);
  b.padTo(PIECE - 30);
  b.push(`${b.nextId()},"across\n${'a'.repeat(30)}\nthe\nboundary",7.25,q\n`);
  // (2) a record ending with \r\n, the \r the last byte of the second piece.
  b.fill(2 * PIECE);
  let id = b.nextId();
  b.padTo(2 * PIECE - 1 - `${id},x,1.0,end`.length);
  b.push(`${id},x,1.0,end\r\n`);
  // (3) a 4-byte character (U+1F600) starting 2 bytes before the third boundary.
  b.fill(3 * PIECE);
  id = b.nextId();
  b.padTo(3 * PIECE - 2 - `${id},`.length);
  b.push(`${id},\u{1F600}smile,3.5,emoji\n`);
  b.fill(3.25 * PIECE);
  const body = enc.encode(b.text());
  // The constructions landed where intended.
  const around = new TextDecoder().decode(body.subarray(PIECE - 30, PIECE + 30));
  expect(around.indexOf('"across\n')).toBeGreaterThan(0);
  expect(around.indexOf('\nthe\nboundary"')).toBeGreaterThan(30);
  expect([body[2 * PIECE - 1], body[2 * PIECE]]).toEqual([0x0d, 0x0a]);
  expect(body[3 * PIECE - 2]).toBe(0xf0);
  return body;
}

describe('chunked CSV = whole-body CSV', () => {
  let body: Uint8Array;
  beforeAll(async () => {
    body = trickyBody();
    await writeFile(tmp.path('tricky.csv'), body);
  });

  for (const schema of [null, SCHEMA]) {
    it(`quoted newlines, \\r\\n and multi-byte characters across piece and chunk boundaries (${schema ? 'with' : 'without'} a schema)`, async () => {
      const whole = parseCsvRequest(body, schema).batch as ColumnBatch;
      expect(whole.numRows).toBeGreaterThan(80_000);
      const wholeJson = JSON.stringify(rowsOf(whole));
      for (const batchRows of [97, 65_536]) {
        const { chunks, batch } = await readChunks(tmp.path('tricky.csv'), { batchRows, schema });
        expectChunkLayout(chunks, whole.numRows, batchRows);
        const got = batch as ColumnBatch;
        expect(got.columns.map((c) => [c.name, c.dtype])).toEqual(whole.columns.map((c) => [c.name, c.dtype]));
        // (compared as JSON text: a deep comparison of 80k rows is slow)
        expect(JSON.stringify(rowsOf(got))).toBe(wholeJson);
      }
      const rows = rowsOf(whole);
      expect(rows.find((r) => r.tag === 'q')?.note).toBe(`across\n${'a'.repeat(30)}\nthe\nboundary`);
      expect(rows.find((r) => r.tag === 'emoji')?.note).toBe('\u{1F600}smile');
      expect(rows.find((r) => r.tag === 'end')?.x).toBe(1);
    });
  }

  it('errors name the same line and byte offset as the whole-body parser', async () => {
    const errorOf = async (bytes: Uint8Array, schema: Schema | null): Promise<{ whole: string; chunked: string }> => {
      let whole = '';
      try {
        parseCsvRequest(bytes, schema);
      } catch (e) {
        expect(e).toBeInstanceOf(ScoringRequestError);
        whole = (e as Error).message;
      }
      await writeFile(tmp.path('bad.csv'), bytes);
      let chunked = '';
      try {
        for await (const chunk of await openTableReader(tmp.path('bad.csv'), { batchRows: 1000, schema })) void chunk;
      } catch (e) {
        expect(e).toBeInstanceOf(TableReadError);
        chunked = (e as TableReadError).detail;
      }
      expect(whole).not.toBe('');
      return { whole, chunked };
    };
    const text = new TextDecoder().decode(body);
    // A value that does not fit its column, near the end.
    const badValue = await errorOf(enc.encode(`${text}999999999,z,not-a-number,t\n`), SCHEMA);
    expect(badValue.chunked).toMatch(/^Unable to convert column x to type float64: line \d+: expected a number for float64, got "not-a-number"$/);
    expect(badValue.whole).toContain(`Error: '${badValue.chunked}'`);
    // A row with too many fields.
    const wide = await errorOf(enc.encode(`${text}1,2,3,4,5\n`), null);
    expect(wide.chunked).toMatch(/^Error tokenizing data. C error: Expected 4 fields in line \d+, saw 5$/);
    expect(wide.whole).toContain(`Error: '${wide.chunked}'`);
    // An unterminated quote.
    const open = await errorOf(enc.encode(`${text}5,"never closed\n6,a,1,b\n`), null);
    expect(open.chunked).toMatch(/^Error tokenizing data. C error: EOF inside string starting at row \d+$/);
    expect(open.whole).toContain(`Error: '${open.chunked}'`);
    // An invalid UTF-8 byte in the third piece.
    const invalid = new Uint8Array(body);
    invalid[2 * PIECE + 12345] = 0xff;
    const utf8 = await errorOf(invalid, null);
    expect(utf8.chunked).toBe(`'utf-8' codec can't decode byte 0xff in position ${2 * PIECE + 12345}: invalid start byte`);
    expect(utf8.whole).toContain(`Error: '${utf8.chunked}'`);
  });
});

describe('column types across chunks', () => {
  it('inferred from the first chunk and then fixed: a later value that does not fit names the column, the line and the fix', async () => {
    await writeFile(tmp.path('drift.csv'), `n,s\n${Array.from({ length: 10 }, (_, i) => `${i},a`).join('\n')}\n10,b\n1.5,c\n`);
    const e = await readChunks(tmp.path('drift.csv'), { batchRows: 5 }).catch((x: unknown) => x as TableReadError);
    expect(e).toBeInstanceOf(TableReadError);
    expect((e as TableReadError).message).toBe(
      `${tmp.path('drift.csv')}: Unable to convert column n to type int64: line 13: expected a whole number for int64, got "1.5" ` +
        "(the column's type was inferred from the first 5 rows; give the reader the model's schema, or a larger batchRows, to type it)",
    );
    const typed = await readChunks(tmp.path('drift.csv'), { batchRows: 5, schema: { kind: 'columns', specs: [cs('n', 'double')] } });
    expect((typed.batch as ColumnBatch).columns[0]!.dtype).toBe('float64');
    expect(typed.chunks.map((c) => (c.batch as ColumnBatch).columns[0]!.dtype)).toEqual(['float64', 'float64', 'float64']);
  });

  it('an integer column inferred without missing values keeps int64 when a later chunk has some (with a validity mask)', async () => {
    await writeFile(tmp.path('gaps.csv'), 'n\n1\n2\n3\nNA\n5\n');
    const { chunks } = await readChunks(tmp.path('gaps.csv'), { batchRows: 3 });
    const second = (chunks[1]!.batch as ColumnBatch).columns[0]!;
    expect(second.dtype).toBe('int64');
    expect(Array.from(second.validity!)).toEqual([0, 1]);
    expect(Array.from(second.values as BigInt64Array)).toEqual([0n, 5n]);
  });

  it('a leading BOM is dropped; a BOM later in the file is data', async () => {
    await writeFile(tmp.path('bom.csv'), '\ufeffa\n\ufeffx\n');
    const { batch } = await readChunks(tmp.path('bom.csv'));
    expect(rowsOf(batch as ColumnBatch)).toEqual([{ a: '\ufeffx' }]);
  });
});

describe('CsvChunker', () => {
  it('fed one byte at a time, it gives what one piece gives', () => {
    const text = enc.encode('a,b\r\n"x\r\ny",\u00e9\u{1F600}\r\n\r\n  \n3,"q""q"\r\n4,5');
    const one = new CsvChunker({ schema: null, batchRows: 2, maxChunkBytes: Infinity, maxRecordBytes: Infinity, source: 's' }).push(text, true);
    const bytewise = new CsvChunker({ schema: null, batchRows: 2, maxChunkBytes: Infinity, maxRecordBytes: Infinity, source: 's' });
    const out: ColumnBatch[] = [];
    for (let i = 0; i < text.length; i++) out.push(...bytewise.push(text.subarray(i, i + 1)));
    out.push(...bytewise.push(new Uint8Array(0), true));
    expect(out.map(rowsOf)).toEqual(one.map(rowsOf));
    expect(one.map(rowsOf)).toEqual([
      [
        { a: 'x\r\ny', b: '\u00e9\u{1F600}' },
        { a: '3', b: 'q"q' },
      ],
      [{ a: '4', b: '5' }],
    ]);
  });

  it('a record longer than maxRecordBytes is refused (an unterminated quote would otherwise buffer the whole file)', () => {
    const c = new CsvChunker({ schema: null, batchRows: 10, maxChunkBytes: Infinity, maxRecordBytes: 1000, source: 'big.csv' });
    c.push(enc.encode('a\n1\n"'));
    expect(() => c.push(enc.encode('x'.repeat(2000)))).toThrow('big.csv: no record ends within 1000 characters from line 3 (an unterminated quote?)');
  });
});
