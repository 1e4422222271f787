/**
 * Table file formats: their names, the file extensions that imply them, and recognition by magic
 * bytes. No Arrow or Parquet code here: the CLI and the main entry use it without loading either.
 *
 * Note the two vocabularies: table formats name files (`arrow` is the IPC *file* format,
 * `arrow-stream` the stream format), while the content-type short names of `--content-type`
 * (`CONTENT_TYPE_SHORT_NAMES`) follow MLflow's protocol, where `arrow` is the stream.
 */

/** Formats `openTableReader` reads and `openTableWriter` writes (`jsonl` is write-only). */
export const TABLE_FORMATS = ['parquet', 'arrow', 'arrow-stream', 'csv', 'jsonl'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** The formats `openTableReader` can read. */
export const READABLE_TABLE_FORMATS = ['parquet', 'arrow', 'arrow-stream', 'csv'] as const;
export type ReadableTableFormat = (typeof READABLE_TABLE_FORMATS)[number];

/** File extensions (lower case, without the dot) and the format each implies. */
export const TABLE_FILE_EXTENSIONS: Readonly<Record<string, TableFormat>> = Object.freeze({
  csv: 'csv',
  parquet: 'parquet',
  pq: 'parquet',
  arrows: 'arrow-stream',
  arrow: 'arrow',
  feather: 'arrow',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
});

export function isTableFormat(s: string): s is TableFormat {
  return (TABLE_FORMATS as readonly string[]).includes(s);
}

/** The format a file name's extension implies (`data.parquet` → `parquet`), or undefined. */
export function tableFormatForFile(path: string): TableFormat | undefined {
  const ext = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext !== undefined && Object.hasOwn(TABLE_FILE_EXTENSIONS, ext) ? TABLE_FILE_EXTENSIONS[ext] : undefined;
}

const PAR1 = [0x50, 0x41, 0x52, 0x31];
const ARROW1 = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];

/**
 * The format the first bytes of a file reveal: `PAR1` (Parquet), `ARROW1` (Arrow IPC file), or an
 * Arrow IPC stream's continuation marker 0xFFFFFFFF. Undefined for anything else (CSV has none).
 */
export function sniffTableFormat(head: Uint8Array): ReadableTableFormat | undefined {
  if (PAR1.every((b, i) => head[i] === b)) return 'parquet';
  if (ARROW1.every((b, i) => head[i] === b)) return 'arrow';
  if (head.length >= 8 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return 'arrow-stream';
  return undefined;
}
