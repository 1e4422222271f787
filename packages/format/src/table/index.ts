/**
 * @mlmodel/format/table — tables read and written in chunks of bounded size: Parquet (decoded in
 * a worker thread), Arrow IPC (file and stream format), CSV (pandas' read_csv rules) and JSON
 * lines (write only), as batches. A separate entry point because it loads apache-arrow.
 */
export { openTableReader } from './reader.js';
export { openTableWriter } from './writer.js';
export type {
  TableSource,
  TableReaderOptions,
  TableReader,
  TableChunk,
  TableSchemaInfo,
  TableWriterOptions,
  TableWriter,
  TablePart,
  TableRows,
  ParquetCompression,
} from './types.js';
export * from './formats.js';
export * from './transfer.js';
export { DEFAULT_BATCH_ROWS, DEFAULT_MAX_CHUNK_BYTES } from './read-context.js';
export { DEFAULT_ROW_GROUP_ROWS } from './parquet-writer.js';
export { TableReadError, TableWriteError, type TableProblem } from '../errors.js';
