/**
 * `text/csv` scoring requests, read like MLflow's `pd.read_csv(body, dtype=<schema types>)`:
 *
 * - RFC 4180 fields: `,` separated, `"` quoted with `""` escapes, quoted fields may span lines;
 *   `\n`, `\r\n` and `\r` end records; blank lines are skipped; a UTF-8 BOM is dropped.
 * - The first record is the header (duplicate names become `a.1`, empty ones `Unnamed: i`).
 *   Short rows are padded with missing values; long rows are an error, as in pandas.
 * - pandas' default NA strings (`''`, `NA`, `NaN`, `null`, `None`, `N/A`, …) are missing values.
 * - With a column schema, named (or, for unnamed schemas, positional) columns get their
 *   type; other columns are inferred like pandas: integers → int64 (float64 when some are
 *   missing), numbers → float64, True/False → bool, otherwise strings; all-missing → float64.
 * - Tensor and Array/Object/Map/Any schemas are refused (400), as MLflow's `pandas_types()` does.
 *
 * Deliberate deviations: integer and boolean columns with missing values keep a validity mask
 * (pandas fails the read; enforcement rejects them for required columns), `datetime` columns are
 * parsed from ISO strings (pandas refuses a datetime dtype in read_csv), and `binary` columns are
 * base64-decoded as in the JSON forms.
 *
 * The rules live in `table/` (`csv-tokenizer.ts`, `csv-cells.ts`, `csv-chunker.ts`), shared with the
 * chunked CSV reader; a request body is read as one piece into one batch.
 */
import { TableReadError } from '../errors.js';
import type { Schema } from '../signature/types.js';
import { CsvChunker } from '../table/csv-chunker.js';
import { tabularParseError } from './errors.js';
import type { ScoringRequest } from './types.js';

/** Parse a `text/csv` scoring request body into a column batch. */
export function parseCsvRequest(body: Uint8Array, schema: Schema | null): ScoringRequest {
  const chunker = new CsvChunker({ schema, batchRows: Infinity, maxChunkBytes: Infinity, maxRecordBytes: Infinity, source: 'CSV data' });
  try {
    // One final piece without row or size limits: exactly one batch.
    const [batch] = chunker.push(body, true);
    return { batch: batch!, params: null, format: 'csv' };
  } catch (e) {
    if (e instanceof TableReadError) throw tabularParseError('csv', e.detail, e.cause);
    throw e;
  }
}
