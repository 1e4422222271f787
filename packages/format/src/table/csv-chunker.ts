/**
 * CSV bytes → column batches of bounded size, fed in pieces: the one CSV implementation behind
 * both `parseCsvRequest` (the whole body as one final piece, one batch) and the chunked CSV reader.
 *
 * - UTF-8 is decoded piece by piece (a sequence cut between pieces waits for the next one); a
 *   leading BOM is dropped; invalid bytes are reported at their offset in the whole input.
 * - Records are cut only after a line terminator and never inside a quoted field, so quoted
 *   newlines across piece boundaries read exactly as in one piece (see `csv-tokenizer.ts`).
 * - The first record is the header. Column types come from the model schema when it names the
 *   column; other columns are inferred from the first batch (pandas' rules) and then fixed: a
 *   later value that does not fit (e.g. text in a column inferred as float64) fails with the
 *   column, the line and the value, suggesting to pass the schema. Integer and boolean columns
 *   inferred from a first batch without missing values keep their type when a later batch has
 *   some (with a validity mask) where pandas, reading the whole file, would have made them float64.
 */
import type { DType } from '../dtype.js';
import { TableReadError } from '../errors.js';
import type { Column, ColumnBatch } from '../batch/types.js';
import type { Schema } from '../signature/types.js';
import { CastFailure } from '../scoring/errors.js';
import { firstInvalidUtf8 } from '../scoring/json-text.js';
import { columnTypes, inferCells, typedCells } from './csv-cells.js';
import { CsvSyntaxError, completeRecordsEnd, headerNames, tokenize, type CsvRecords } from './csv-tokenizer.js';

export interface CsvChunkerOptions {
  /** The model's input schema: it types the columns it names (null: every column is inferred). */
  readonly schema: Schema | null;
  /** Most rows per batch (Infinity: a single batch). */
  readonly batchRows: number;
  /** About the most characters of CSV text per batch (Infinity: no limit). */
  readonly maxChunkBytes: number;
  /** Longest a single record may be, in characters, before the input is refused (Infinity: no limit). */
  readonly maxRecordBytes: number;
  /** Names the input in errors: a file path, or e.g. `CSV data`. */
  readonly source: string;
}

const EMPTY = new Uint8Array(0);

/** Index just past the last complete UTF-8 sequence of `b` (a lead byte whose sequence runs past the end is left out). */
function completeUtf8End(b: Uint8Array): number {
  let i = b.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (b[i]! & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return b.length;
  const c = b[i]!;
  const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
  return i + need > b.length ? i : b.length;
}

export class CsvChunker {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private carry: Uint8Array = EMPTY;
  private bytesDecoded = 0;
  private pending = '';
  /** Don't try to tokenize a non-final piece again before `pending` is this long (a record longer than a piece). */
  private retryAt = 0;
  private line = 1;
  private names: string[] | undefined;
  /** Column types the schema gives (computed with the first batch, after the first rows' widths are checked, as pandas does). */
  private schemaTypes: (DType | undefined)[] | undefined;
  /** Column types after the first batch with rows. */
  private fixed: DType[] | undefined;
  private fixedFromRows = 0;
  private rows: string[][] = [];
  private lines: number[] = [];
  private charsPerRow = 1;
  private emitted = 0;
  private done = false;

  constructor(private readonly opts: CsvChunkerOptions) {}

  /** Column names, once the header has been read. */
  get columnNames(): readonly string[] | undefined {
    return this.names;
  }

  private fail(detail: string, cause?: unknown): never {
    throw new TableReadError(this.opts.source, detail, { format: 'csv', cause });
  }

  /**
   * Feed the next piece of the input (`final` for the last one; an empty final piece is fine)
   * and get the batches it completes. A final piece ends the input: the remaining rows become a
   * batch, and a table without rows gives one batch of 0 rows (its columns typed by the schema,
   * else `object`).
   */
  push(bytes: Uint8Array, final = false): ColumnBatch[] {
    if (this.done) throw new Error('CsvChunker: input already ended');
    const text = this.decode(bytes, final);
    this.pending = this.pending.length === 0 ? text : this.pending + text;
    const out: ColumnBatch[] = [];
    if (final) {
      this.done = true;
      const recs = this.tokenize(this.pending, true);
      this.pending = '';
      this.take(recs, out);
      if (this.names === undefined) this.fail('No columns to parse from file');
      if (this.rows.length > 0 || this.emitted === 0) out.push(this.batch(this.rows.length));
      return out;
    }
    if (this.pending.length < this.retryAt) return out;
    const end = completeRecordsEnd(this.pending);
    const recs = end === 0 ? undefined : this.tokenize(this.pending.slice(0, end), false);
    const consumed = recs?.consumed ?? 0;
    if (consumed > 0) this.pending = this.pending.slice(consumed);
    this.retryAt = consumed === 0 ? 2 * this.pending.length : 0;
    if (this.pending.length > this.opts.maxRecordBytes) {
      this.fail(`no record ends within ${this.opts.maxRecordBytes} characters from line ${this.line} (an unterminated quote?)`);
    }
    if (recs) this.take(recs, out);
    return out;
  }

  private decode(bytes: Uint8Array, final: boolean): string {
    let b = bytes;
    if (this.carry.length > 0) {
      b = new Uint8Array(this.carry.length + bytes.length);
      b.set(this.carry);
      b.set(bytes, this.carry.length);
    }
    const end = final ? b.length : completeUtf8End(b);
    const part = b.subarray(0, end);
    let text: string;
    try {
      text = this.decoder.decode(part);
    } catch (e) {
      const { at, byte } = firstInvalidUtf8(part);
      this.fail(`'utf-8' codec can't decode byte 0x${byte.toString(16).padStart(2, '0')} in position ${this.bytesDecoded + at}: invalid start byte`, e);
    }
    if (this.bytesDecoded === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    this.carry = end < b.length ? b.slice(end) : EMPTY;
    this.bytesDecoded += end;
    return text;
  }

  private tokenize(s: string, final: boolean): CsvRecords {
    try {
      const recs = tokenize(s, this.line, final);
      this.line = recs.line;
      return recs;
    } catch (e) {
      if (e instanceof CsvSyntaxError) this.fail(`Error tokenizing data. C error: ${e.message}`, e);
      throw e;
    }
  }

  /** Take complete records: the header first, then rows; emit full batches. */
  private take(recs: CsvRecords, out: ColumnBatch[]): void {
    const { rows, lines } = recs;
    let r = 0;
    if (this.names === undefined) {
      if (rows.length === 0) return;
      this.names = headerNames(rows[0]!);
      r = 1;
    }
    const width = this.names.length;
    if (rows.length > r) this.charsPerRow = Math.max(1, recs.consumed / rows.length);
    for (; r < rows.length; r++) {
      const row = rows[r]!;
      if (row.length > width) this.fail(`Error tokenizing data. C error: Expected ${width} fields in line ${lines[r]}, saw ${row.length}`);
      this.rows.push(row);
      this.lines.push(lines[r]!);
    }
    const perBatch = Math.max(1, Math.min(this.opts.batchRows, Math.floor(this.opts.maxChunkBytes / this.charsPerRow)));
    while (this.rows.length >= perBatch) out.push(this.batch(perBatch));
  }

  /** The first `n` buffered rows as a batch. */
  private batch(n: number): ColumnBatch {
    const names = this.names!;
    const rows = n === this.rows.length ? this.rows : this.rows.slice(0, n);
    const lines = n === this.lines.length ? this.lines : this.lines.slice(0, n);
    this.rows = n === this.rows.length ? [] : this.rows.slice(n);
    this.lines = n === this.lines.length ? [] : this.lines.slice(n);
    if (this.schemaTypes === undefined) {
      try {
        this.schemaTypes = columnTypes(names, this.opts.schema);
      } catch (e) {
        if (e instanceof CastFailure) this.fail(e.message, e);
        throw e;
      }
    }
    const schemaTypes = this.schemaTypes;
    const columns: Column[] = names.map((name, j) => {
      const cells: (string | null)[] = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const row = rows[i]!;
        cells[i] = j < row.length ? row[j]! : null;
      }
      const dtype = this.fixed?.[j] ?? schemaTypes[j] ?? inferCells(cells);
      // Only a column without rows has no inferred type (pandas: object).
      if (dtype === 'object') return { name, dtype, values: [] } as Column;
      try {
        const { values, validity } = typedCells(cells, dtype, (i) => `line ${lines[i]}`);
        return { name, dtype, values, validity } as Column;
      } catch (e) {
        if (!(e instanceof CastFailure)) throw e;
        const inferred = this.fixed !== undefined && schemaTypes[j] === undefined;
        const hint = inferred
          ? ` (the column's type was inferred from the first ${this.fixedFromRows} rows; give the reader the model's schema, or a larger batchRows, to type it)`
          : '';
        this.fail(`Unable to convert column ${name} to type ${dtype}: ${e.message}${hint}`, e);
      }
    });
    if (this.fixed === undefined && n > 0) {
      this.fixed = columns.map((c) => c.dtype);
      this.fixedFromRows = n;
    }
    this.emitted += n;
    return { kind: 'columns', numRows: n, columns };
  }
}
