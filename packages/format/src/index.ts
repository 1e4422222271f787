/**
 * @mlmodel/format — MLflow's model format: MLmodel files, signatures, schema enforcement,
 * input examples, environment files, model URIs, and the in-memory batch with its Arrow mapping.
 * (Reading and writing table files in chunks is `@mlmodel/format/table`; this entry has their
 * formats, types and the batch transfer helpers, without loading Arrow or Parquet code.)
 */
export * from './errors.js';
export * from './dtype.js';
export { floatToHalf, halfToFloat } from './float16.js';
export * from './pyjson.js';
export * from './yaml/index.js';
export * from './batch/types.js';
export * from './batch/string-array.js';
export * from './batch/values.js';
export * from './batch/combine.js';
export * from './table/formats.js';
export * from './table/transfer.js';
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
} from './table/types.js';
export * from './signature/types.js';
export * from './signature/parse.js';
export * from './signature/serialize.js';
export * from './signature/infer.js';
export * from './enforce/index.js';
export * from './scoring/index.js';
export * from './mlmodel/types.js';
export * from './mlmodel/mlmodel.js';
export { validateMLmodelDict } from './mlmodel/validate.js';
export * from './model-dir.js';
export * from './model-uri.js';
export * from './input-example.js';
export * from './env-files.js';
export { writeFileAtomic } from './fs-utils.js';
