/**
 * Arrow IPC (stream and file formats) for batches, with validation of untrusted input.
 *
 * apache-arrow's reader trusts its input: garbage or a stream cut inside its first message reads as an
 * empty table, damaged files throw raw TypeErrors, and a corrupted flatbuffer vector length makes it
 * allocate without bound (out of memory). So before handing bytes to apache-arrow we walk the message
 * framing and bounds-check every table, vector and string of the flatbuffer metadata we depend on.
 */
import * as arrow from 'apache-arrow';
import { ModelFormatError } from '../errors.js';
import { batchFromArrow } from './arrow-to-batch.js';
import { batchToArrow } from './batch-to-arrow.js';
import type { Batch } from './types.js';

/** Serialize a batch as Arrow IPC, in the streaming format (default) or the random-access file format. */
export function batchToIPC(batch: Batch, format: 'stream' | 'file' = 'stream'): Uint8Array {
  return arrow.tableToIPC(batchToArrow(batch), format);
}

/** Read Arrow IPC bytes (stream or file format) into a batch. Malformed or truncated input throws ModelFormatError. */
export function batchFromIPC(bytes: Uint8Array): Batch {
  const table = arrowTableFromIPC(bytes);
  // Every column type but Null needs at least a bit per row, so a larger row count is a corrupted length.
  if (table.numRows > bytes.byteLength * 8 + 65536) {
    throw new ModelFormatError(`malformed Arrow IPC data: ${table.numRows} rows claimed in ${bytes.byteLength} bytes`);
  }
  try {
    return batchFromArrow(table);
  } catch (err) {
    if (err instanceof ModelFormatError) throw err;
    throw new ModelFormatError(`malformed Arrow IPC data: ${(err as Error).message}`, { cause: err });
  }
}

/** `arrow.tableFromIPC` for untrusted bytes: every problem becomes a ModelFormatError. */
export function arrowTableFromIPC(bytes: Uint8Array): arrow.Table {
  checkIpcBytes(bytes);
  try {
    return arrow.tableFromIPC(bytes);
  } catch (err) {
    throw new ModelFormatError(`malformed Arrow IPC data: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Validate Arrow IPC bytes (stream or file format) before apache-arrow reads them: message
 * framing and every flatbuffer table, vector and string it depends on. Throws ModelFormatError.
 */
export function checkIpcBytes(bytes: Uint8Array): void {
  if (bytes.byteLength === 0) throw new ModelFormatError('Arrow IPC data is empty');
  if (hasMagicAt(bytes, 0)) checkFile(bytes);
  else checkStream(bytes);
}

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/** Whether `bytes` holds the Arrow IPC file magic `ARROW1` at `pos`. */
export function hasArrowMagicAt(bytes: Uint8Array, pos: number): boolean {
  return hasMagicAt(bytes, pos);
}

function hasMagicAt(bytes: Uint8Array, pos: number): boolean {
  return pos >= 0 && MAGIC.every((b, i) => bytes[pos + i] === b);
}

function fail(message: string): never {
  throw new ModelFormatError(`malformed Arrow IPC data: ${message}`);
}

// MessageHeader union tags (Message.fbs).
const SCHEMA = 1;
const DICTIONARY_BATCH = 2;
const RECORD_BATCH = 3;

/**
 * The stream format: messages of [0xFFFFFFFF] int32 metadata length, flatbuffer Message, body; the first is a
 * schema. (A stream cut exactly between two messages cannot be told from one whose writer omitted the
 * optional end-of-stream marker, and reads as the messages it has.)
 */
function checkStream(bytes: Uint8Array): void {
  let pos = 0;
  let count = 0;
  while (pos < bytes.byteLength) {
    const msg = readMessage(bytes, pos, count === 0 ? 'not Arrow IPC data, or truncated' : 'Arrow IPC stream is truncated');
    if (msg === undefined) break; // end-of-stream marker
    if (count === 0 && msg.headerType !== SCHEMA) throw new ModelFormatError('not Arrow IPC data: the stream does not start with a schema message');
    pos = msg.end;
    count++;
  }
  if (count === 0) throw new ModelFormatError('not Arrow IPC data: no schema message');
}

/** The file format: magic, padding, a stream, a flatbuffer Footer, its int32 length, magic. */
function checkFile(bytes: Uint8Array): void {
  const len = bytes.byteLength;
  if (len < 18 || !hasMagicAt(bytes, len - 6)) throw new ModelFormatError('Arrow IPC file is truncated (no trailing ARROW1 magic)');
  const footerLength = new DataView(bytes.buffer, bytes.byteOffset + len - 10, 4).getInt32(0, true);
  const footerStart = len - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) fail('invalid file footer length');
  const { dictionaries, records } = readIpcFileFooter(bytes.subarray(footerStart, len - 10), footerStart);
  for (const [blocks, type] of [
    [dictionaries, DICTIONARY_BATCH],
    [records, RECORD_BATCH],
  ] as const) {
    blocks.forEach((b, k) => {
      const msg = readMessage(bytes.subarray(0, b.offset + b.metaDataLength + b.bodyLength), b.offset, 'Arrow IPC file block is truncated');
      if (msg === undefined || msg.headerType !== type)
        fail(`block ${k} of the file footer is not a ${type === DICTIONARY_BATCH ? 'dictionary' : 'record'} batch`);
    });
  }
}

/** One message of an Arrow IPC file, as its footer locates it. */
export interface IpcFileBlock {
  readonly offset: number;
  readonly metaDataLength: number;
  readonly bodyLength: number;
}

/**
 * Validate an Arrow IPC file's flatbuffer Footer (the bytes before its int32 length and the
 * trailing magic; `footerStart` is their offset in the file) and return its dictionary and
 * record batch blocks, each checked to lie between the leading magic and the footer.
 */
export function readIpcFileFooter(footer: Uint8Array, footerStart: number): { dictionaries: IpcFileBlock[]; records: IpcFileBlock[] } {
  const fb = new FlatBuffer(footer, 'file footer');
  const root = fb.root();
  const schema = fb.sub(root, 1);
  if (!schema) fail('the file footer has no schema');
  verifySchema(fb, schema);
  const out: IpcFileBlock[][] = [];
  for (const slot of [2, 3]) {
    const blocks = fb.vector(root, slot, 24);
    const list: IpcFileBlock[] = [];
    for (let k = 0; k < (blocks?.length ?? 0); k++) {
      const at = blocks!.start + 24 * k;
      const offset = fb.i64(at);
      const metaDataLength = fb.i32(at + 8);
      const bodyLength = fb.i64(at + 16);
      const size = offset + metaDataLength + bodyLength;
      if (offset < 8 || !(size <= footerStart)) fail(`block ${k} of the file footer points outside the file`);
      list.push({ offset, metaDataLength, bodyLength });
    }
    out.push(list);
  }
  return { dictionaries: out[0]!, records: out[1]! };
}

/** Where an Arrow IPC message lies, from its validated metadata. */
export interface IpcMessageInfo {
  /** MessageHeader type: 1 schema, 2 dictionary batch, 3 record batch. */
  readonly headerType: number;
  /** Offset just past the metadata (where the body starts). */
  readonly bodyStart: number;
  readonly bodyLength: number;
  /** Offset just past the body. */
  readonly end: number;
  /** Rows of a record batch (0 for other messages). */
  readonly rows: number;
}

/**
 * Validate the framing and flatbuffer metadata of the Arrow IPC message at `pos` of `bytes`
 * (undefined for an end-of-stream marker). `end` is where the data really ends (default: the end
 * of `bytes`); `bytes` need only hold the message's prefix and metadata, not its body.
 * Throws ModelFormatError for anything malformed or cut short (`truncated` starts those messages).
 */
export function inspectIpcMessage(bytes: Uint8Array, pos: number, truncated: string, end = bytes.byteLength): IpcMessageInfo | undefined {
  return readMessage(bytes, pos, truncated, end);
}

/** Check the message at `pos` (framing and metadata); undefined for an end-of-stream marker. */
function readMessage(bytes: Uint8Array, pos: number, truncated: string, end = bytes.byteLength): IpcMessageInfo | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (end - pos < 4) throw new ModelFormatError(`${truncated}: a message header ends past byte ${end}`);
  let metaLength = view.getInt32(pos, true);
  pos += 4;
  if (metaLength === -1) {
    if (end - pos < 4) throw new ModelFormatError(`${truncated}: a message header ends past byte ${end}`);
    metaLength = view.getInt32(pos, true);
    pos += 4;
  }
  if (metaLength === 0) return undefined;
  if (metaLength < 0) throw new ModelFormatError(`not Arrow IPC data: invalid message length ${metaLength} at byte ${pos - 4}`);
  if (pos + metaLength > end) throw new ModelFormatError(`${truncated}: message metadata ends past byte ${end}`);
  const fb = new FlatBuffer(bytes.subarray(pos, pos + metaLength), 'message');
  const message = fb.root();
  const headerType = fb.u8Field(message, 1);
  const bodyLength = fb.i64Field(message, 3);
  verifyKeyValues(fb, message, 4);
  const header = fb.sub(message, 2);
  if (!header) fail(`message at byte ${pos} has no header`);
  let rows = 0;
  if (headerType === SCHEMA) verifySchema(fb, header);
  else if (headerType === RECORD_BATCH) rows = verifyRecordBatch(fb, header, bodyLength);
  else if (headerType === DICTIONARY_BATCH) {
    const data = fb.sub(header, 1);
    if (!data) fail('dictionary batch without data');
    verifyRecordBatch(fb, data, bodyLength);
  } else fail(`unsupported message type ${headerType} at byte ${pos}`);
  if (pos + metaLength + bodyLength > end) throw new ModelFormatError(`${truncated}: a message body ends past byte ${end}`);
  return { headerType, bodyStart: pos + metaLength, bodyLength, end: pos + metaLength + bodyLength, rows };
}

function verifySchema(fb: FlatBuffer, schema: Table): void {
  for (const field of fb.tables(schema, 1)) verifyField(fb, field, 0);
  verifyKeyValues(fb, schema, 2);
  fb.vector(schema, 3, 8);
}

function verifyField(fb: FlatBuffer, field: Table, depth: number): void {
  if (depth > 64) fail('fields nested more than 64 deep');
  fb.vector(field, 0, 1); // name
  const typeTag = fb.u8Field(field, 2);
  const type = fb.sub(field, 3);
  if (type && typeTag === 10) fb.vector(type, 1, 1); // Timestamp.timezone
  if (type && typeTag === 14) fb.vector(type, 1, 4); // Union.typeIds
  const dictionary = fb.sub(field, 4);
  if (dictionary) fb.sub(dictionary, 1); // indexType
  for (const child of fb.tables(field, 5)) verifyField(fb, child, depth + 1);
  verifyKeyValues(fb, field, 6);
}

function verifyKeyValues(fb: FlatBuffer, table: Table, slot: number): void {
  for (const kv of fb.tables(table, slot)) {
    fb.vector(kv, 0, 1);
    fb.vector(kv, 1, 1);
  }
}

/** Check a RecordBatch header; returns its row count. */
function verifyRecordBatch(fb: FlatBuffer, batch: Table, bodyLength: number): number {
  const rows = fb.i64Field(batch, 0);
  fb.vector(batch, 1, 16); // FieldNode structs
  const buffers = fb.vector(batch, 2, 16);
  for (let k = 0; k < (buffers?.length ?? 0); k++) {
    const at = buffers!.start + 16 * k;
    if (fb.i64(at) + fb.i64(at + 8) > bodyLength) fail(`buffer ${k} lies outside the message body`);
  }
  fb.sub(batch, 3); // compression
  fb.vector(batch, 4, 8);
  return rows;
}

interface Table {
  pos: number;
  vtable: number;
  vtableSize: number;
  tableSize: number;
}

/** Bounds-checked reads of a flatbuffer (only what the verifier needs). */
class FlatBuffer {
  private readonly view: DataView;
  private readonly size: number;
  private visits = 0;

  constructor(
    bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = bytes.byteLength;
  }

  private need(pos: number, n: number): void {
    if (!(pos >= 0 && n >= 0 && pos + n <= this.size)) fail(`${this.what} metadata: offset ${pos} (+${n}) is out of bounds`);
  }

  u8(pos: number): number {
    this.need(pos, 1);
    return this.view.getUint8(pos);
  }

  u16(pos: number): number {
    this.need(pos, 2);
    return this.view.getUint16(pos, true);
  }

  i32(pos: number): number {
    this.need(pos, 4);
    return this.view.getInt32(pos, true);
  }

  u32(pos: number): number {
    this.need(pos, 4);
    return this.view.getUint32(pos, true);
  }

  i64(pos: number): number {
    this.need(pos, 8);
    const v = Number(this.view.getBigInt64(pos, true));
    if (!Number.isSafeInteger(v) || v < 0) fail(`${this.what} metadata: invalid length or offset ${v}`);
    return v;
  }

  root(): Table {
    return this.table(this.u32(0));
  }

  table(pos: number): Table {
    // Every real table occupies at least 4 distinct bytes; more visits means offsets are shared in a loop.
    if (++this.visits > this.size / 4 + 8) fail(`${this.what} metadata: too many tables (corrupted offsets)`);
    const vtable = pos - this.i32(pos);
    const vtableSize = this.u16(vtable);
    const tableSize = this.u16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) fail(`${this.what} metadata: invalid vtable at ${vtable}`);
    this.need(vtable, vtableSize);
    this.need(pos, tableSize);
    return { pos, vtable, vtableSize, tableSize };
  }

  /** Absolute position of field `slot`, or 0 when absent. */
  field(t: Table, slot: number): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > t.vtableSize) return 0;
    const off = this.u16(t.vtable + entry);
    if (off === 0) return 0;
    if (off >= t.tableSize) fail(`${this.what} metadata: field ${slot} lies outside its table`);
    return t.pos + off;
  }

  u8Field(t: Table, slot: number): number {
    const p = this.field(t, slot);
    return p ? this.u8(p) : 0;
  }

  i64Field(t: Table, slot: number): number {
    const p = this.field(t, slot);
    return p ? this.i64(p) : 0;
  }

  private ref(t: Table, slot: number): number {
    const p = this.field(t, slot);
    return p ? p + this.u32(p) : 0;
  }

  sub(t: Table, slot: number): Table | undefined {
    const p = this.ref(t, slot);
    return p ? this.table(p) : undefined;
  }

  vector(t: Table, slot: number, elementSize: number): { start: number; length: number } | undefined {
    const p = this.ref(t, slot);
    if (!p) return undefined;
    const length = this.u32(p);
    this.need(p + 4, length * elementSize);
    return { start: p + 4, length };
  }

  tables(t: Table, slot: number): Table[] {
    const v = this.vector(t, slot, 4);
    const out: Table[] = [];
    for (let k = 0; k < (v?.length ?? 0); k++) {
      const at = v!.start + 4 * k;
      out.push(this.table(at + this.u32(at)));
    }
    return out;
  }
}
