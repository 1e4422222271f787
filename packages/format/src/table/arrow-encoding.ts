/**
 * Batches → Arrow record batches for the Arrow and Parquet writers: every batch is converted with
 * `batchToArrow` (zero-copy for numeric, string and bytes columns) and must have the first batch's
 * fields (names and types); it is then re-labelled with the first batch's schema, so the file has
 * one schema (field metadata such as a tensor's recorded shape comes from the first batch; readers
 * take the first dimension from the row count).
 *
 * Side-by-side parts are converted one by one and their fields joined into one column table: a
 * named tensor becomes a (nested) fixed-size list column, a part's row validity is added to each
 * of its columns' null bitmaps, and the tensor markers (`mlmodel:batch`, the recorded shape) are
 * left out, so the file reads back as a table of columns.
 */
import * as arrow from 'apache-arrow';
import { META_JSON, packValidity } from '../batch/arrow-common.js';
import { batchToArrow } from '../batch/batch-to-arrow.js';
import type { Batch } from '../batch/types.js';
import { TableWriteError } from '../errors.js';
import { isPartList } from './table-parts.js';
import type { TablePart, TableRows } from './types.js';

/** One byte per row from an Arrow null bitmap (all ones when there is none). */
function unpackNulls(data: arrow.Data): Uint8Array {
  const out = new Uint8Array(data.length).fill(1);
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || bitmap === undefined || bitmap.length === 0) return out;
  for (let i = 0; i < data.length; i++) {
    const bit = data.offset + i;
    out[i] = (bitmap[bit >> 3]! >> (bit & 7)) & 1;
  }
  return out;
}

/** The data with rows that `rowValidity` marks missing set to null (on top of its own nulls). */
function withRowValidity(data: arrow.Data, rowValidity: Uint8Array): arrow.Data {
  const own = unpackNulls(data);
  let nullCount = 0;
  for (let i = 0; i < own.length; i++) {
    if (rowValidity[i] === 0) own[i] = 0;
    if (own[i] === 0) nullCount++;
  }
  if (nullCount === data.nullCount) return data;
  // the bitmap counts from the data's offset: rows before it are marked present
  const mask = new Uint8Array(data.offset + data.length).fill(1);
  mask.set(own, data.offset);
  const { nullBitmap } = packValidity(mask, mask.length);
  const buffers = [data.valueOffsets, data.values, nullBitmap, data.typeIds] as unknown as Parameters<arrow.Data['clone']>[4];
  return data.clone(data.type, data.offset, data.length, nullCount, buffers, data.children);
}

/** Side-by-side parts as one Arrow table of columns. */
function partsToArrow(parts: readonly TablePart[]): arrow.Table {
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  let rows = 0;
  for (const part of parts) {
    const table = batchToArrow(part.batch);
    rows = table.numRows;
    // (batchToArrow makes exactly one record batch)
    const rb = table.batches[0]!;
    table.schema.fields.forEach((f, j) => {
      let data = rb.data.children[j]!;
      if (part.rowValidity !== undefined) data = withRowValidity(data, part.rowValidity);
      const json = f.metadata.get(META_JSON) === '1';
      fields.push(new arrow.Field(f.name, f.type, true, json ? new Map([[META_JSON, '1']]) : null));
      children.push(data);
    });
  }
  const schema = new arrow.Schema(fields);
  const root = arrow.makeData({ type: new arrow.Struct(fields), length: rows, nullCount: 0, children });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, root)]);
}

function toArrow(rows: TableRows): arrow.Table {
  return isPartList(rows) ? partsToArrow(rows) : batchToArrow(rows as Batch);
}

export class ArrowBatchEncoder {
  schema: arrow.Schema | undefined;
  private count = 0;

  constructor(private readonly path: string) {}

  /** The batch as record batches under the file's schema (set by the first batch). */
  encode(batch: TableRows): arrow.RecordBatch[] {
    let table: arrow.Table;
    try {
      table = toArrow(batch);
    } catch (e) {
      throw new TableWriteError(this.path, (e as Error).message, { cause: e });
    }
    this.count++;
    if (this.schema === undefined) {
      this.schema = table.schema;
      return table.batches;
    }
    const first = this.schema.fields;
    const got = table.schema.fields;
    const mismatch =
      first.length !== got.length
        ? `it has ${got.length} columns, the first batch ${first.length}`
        : first
            .map((f, j) => {
              const g = got[j]!;
              if (g.name !== f.name) return `column ${j} is "${g.name}", in the first batch "${f.name}"`;
              if (!arrow.util.compareTypes(f.type, g.type)) return `column "${f.name}" has Arrow type ${String(g.type)}, in the first batch ${String(f.type)}`;
              return undefined;
            })
            .find((m) => m !== undefined);
    if (mismatch !== undefined) {
      throw new TableWriteError(
        this.path,
        `batch ${this.count} does not match the first batch: ${mismatch}. Every batch of a table must have the same columns and types (object columns must keep the same shape of values)`,
      );
    }
    return table.batches.map((rb) => new arrow.RecordBatch(this.schema!, rb.data));
  }
}
