/**
 * Dictionary encoding of string columns for the worker protocol (PROTOCOL.md, "Data payloads").
 * Tabular string columns usually repeat a few values (plans, countries, categories). Sent as codes
 * plus the distinct values, the worker builds the object column with one numpy `take` instead of
 * creating a Python str per row, which costs ~0.3–0.9 ms per 10,000 rows.
 */

/** Columns shorter than this are sent as they are: the saving would not pay for the scan. */
export const DICTIONARY_MIN_ROWS = 256;

export interface StringDictionary {
  /** Per row, the index of its value in the dictionary. */
  readonly codes: Int32Array;
  /** The distinct values in order of first appearance, as Utf8Array-style offsets (from 0) and bytes. */
  readonly offsets: Int32Array;
  readonly bytes: Uint8Array;
}

/** FNV-1a over bytes [start, end), seeded with the length. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  for (let j = start; j < end; j++) h = Math.imul(h ^ bytes[j]!, 0x01000193);
  return h;
}

function sameBytes(bytes: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let j = 0; j < aEnd - a; j++) if (bytes[a + j] !== bytes[b + j]) return false;
  return true;
}

/**
 * The dictionary of `length` values laid out as `offsets` (length + 1 entries) into `bytes`, or null
 * when the column is short or has more than one distinct value per 8 rows (then codes would not
 * save enough); the scan stops as soon as that is certain.
 */
export function encodeStringDictionary(offsets: Int32Array, bytes: Uint8Array, length: number): StringDictionary | null {
  if (length < DICTIONARY_MIN_ROWS) return null;
  const maxDistinct = Math.min(4096, length >> 3);
  let capacity = 16;
  while (capacity < maxDistinct * 2) capacity <<= 1;
  const mask = capacity - 1;
  const slots = new Int32Array(capacity).fill(-1); // open addressing: slot → code
  const hashes = new Int32Array(maxDistinct);
  const firstRows = new Int32Array(maxDistinct);
  const codes = new Int32Array(length);
  let distinct = 0;
  for (let i = 0; i < length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    const h = hashBytes(bytes, start, end);
    let slot = h & mask;
    let code = -1;
    for (;;) {
      const c = slots[slot]!;
      if (c < 0) break;
      const r = firstRows[c]!;
      if (hashes[c] === h && sameBytes(bytes, offsets[r]!, offsets[r + 1]!, start, end)) {
        code = c;
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (code < 0) {
      if (distinct === maxDistinct) return null;
      code = distinct++;
      slots[slot] = code;
      hashes[code] = h;
      firstRows[code] = i;
    }
    codes[i] = code;
  }
  const dictOffsets = new Int32Array(distinct + 1);
  for (let c = 0; c < distinct; c++) {
    const r = firstRows[c]!;
    dictOffsets[c + 1] = dictOffsets[c]! + (offsets[r + 1]! - offsets[r]!);
  }
  const dictBytes = new Uint8Array(dictOffsets[distinct]!);
  for (let c = 0; c < distinct; c++) {
    const r = firstRows[c]!;
    dictBytes.set(bytes.subarray(offsets[r]!, offsets[r + 1]!), dictOffsets[c]!);
  }
  return { codes, offsets: dictOffsets, bytes: dictBytes };
}
