/**
 * Batches → Arrow record batches for the Arrow and Parquet writers: every batch is converted with
 * `batchToArrow` (zero-copy for numeric, string and bytes columns) and must have the first batch's
 * fields (names and types); it is then re-labelled with the first batch's schema, so the file has
 * one schema (field metadata such as a tensor's recorded shape comes from the first batch; readers
 * take the first dimension from the row count).
 */
import * as arrow from 'apache-arrow';
import { batchToArrow } from '../batch/batch-to-arrow.js';
import type { Batch } from '../batch/types.js';
import { TableWriteError } from '../errors.js';

export class ArrowBatchEncoder {
  schema: arrow.Schema | undefined;
  private count = 0;

  constructor(private readonly path: string) {}

  /** The batch as record batches under the file's schema (set by the first batch). */
  encode(batch: Batch): arrow.RecordBatch[] {
    let table: arrow.Table;
    try {
      table = batchToArrow(batch);
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
