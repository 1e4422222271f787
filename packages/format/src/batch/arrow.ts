/**
 * Lossless conversion between our `Batch` and Apache Arrow (apache-arrow JS), copy-free where the
 * memory layouts agree, plus Arrow IPC (stream and file) encoding.
 *
 * Column batch ⇄ one Arrow field per column, in order:
 * - int8..uint64, float16/32/64 ⇄ Int*, Uint*, Float16/32/64; datetime64[ns] ⇄ Timestamp(ns, no tz).
 *   Batch → Arrow shares our typed array; Arrow → batch gives a view on Arrow's buffer for a single chunk.
 *   A validity mask becomes a packed null bitmap (the values are still shared). Reading a float column
 *   with nulls copies it to put NaN under the nulls, as pandas does.
 * - bool ⇄ Bool (bit-packed both ways: always a copy).
 * - str ⇄ Utf8, bytes ⇄ Binary, sharing the offsets and the byte buffer both ways.
 * - object: lists (or plain objects with the same keys) of homogeneous JSON-like values ⇄ List / Struct
 *   (numbers ⇄ Float64, bigint ⇄ Int64, so the JS values come back identical); anything else ⇄ Utf8 of
 *   tagged JSON with field metadata `mlmodel:json=1` (bigint, bytes, NaN/±Infinity, -0 and Dates survive).
 * Arrow types we never write are read too: Dictionary (decoded), LargeUtf8/LargeBinary, Utf8View/BinaryView,
 * FixedSizeBinary, Date32/Date64 and every Timestamp unit (→ datetime64[ns], UTC instants), Decimal
 * (→ float64), and List/LargeList/FixedSizeList/Struct/Map/Null/other types (→ object columns of plain JS
 * values: arrays, objects, numbers, bigints, strings, Uint8Arrays).
 *
 * Tensor batch ⇄ one field per tensor whose rows are shape[0] (one row for a 0-d tensor), with one nested
 * FixedSizeList per further dimension around the shared flat buffer; field metadata `mlmodel:tensor_shape`
 * (JSON) and `mlmodel:unnamed=1` (unnamed tensor, field name `tensor`), schema metadata
 * `mlmodel:batch=tensors`. Tables without that schema metadata always read back as column batches, so a
 * FixedSizeList column from elsewhere becomes an object column of JS arrays.
 *
 * IPC: `batchToIPC` / `batchFromIPC` wrap apache-arrow's `tableToIPC` / `tableFromIPC`; input is validated
 * first (see `arrow-ipc.ts`) so malformed or truncated bytes throw ModelFormatError.
 */
export { batchToArrow } from './batch-to-arrow.js';
export { batchFromArrow, dtypeOf as dtypeOfArrowType, recordBatchToBatch } from './arrow-to-batch.js';
export { arrowTableFromIPC, batchFromIPC, batchToIPC } from './arrow-ipc.js';
export { META_BATCH, META_JSON, META_TENSOR_SHAPE, META_UNNAMED, UNNAMED_TENSOR_FIELD } from './arrow-common.js';
