/**
 * @mlmodel/format/arrow — the Arrow mapping of batches and the Arrow/Parquet request parsers.
 * A separate entry point because apache-arrow takes ~270 ms to import: servers and CLIs load it
 * only when a request or file needs it.
 */
export * from './batch/arrow.js';
export { parseArrowRequest, tableToBatch } from './scoring/arrow-request.js';
export { parseParquetRequest } from './scoring/parquet-request.js';
