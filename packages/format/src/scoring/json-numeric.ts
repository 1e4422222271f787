/**
 * The fast path for large numeric request bodies: a rectangular nested array of JSON numbers (the
 * `inputs` / `instances` of a tensor model, the rows of `dataframe_split.data`) scanned in the
 * decoded text and written straight into one typed array, without a JS value per element.
 *
 * `scanNumericArray` checks the structure in one pass (uniform nesting, equal lengths, only number
 * tokens, the JSON grammar) and records what dtype inference needs: whether every token is an
 * integer token, and per position in the innermost lists whether any float token appears. It gives
 * up (returns undefined) on anything else — strings, `null`, booleans, objects, empty or ragged
 * lists, integers of more than 15 digits, bad syntax — and the generic parser then takes the value,
 * with its exact semantics and error messages.
 *
 * `NumericArray.fill(dtype)` parses the numbers into storage of a dtype with the same rules as
 * `castJsonValues` (json-cast.ts) for the values this path admits; a value that the rules would
 * refuse (a fraction for an integer dtype, beyond float32's range…) makes it return undefined, so
 * the caller decodes generically and reports the error MLflow's way.
 */
import { FLOAT32_MAX, smallIntRange, type DType } from '../dtype.js';
import type { Storage } from '../batch/types.js';
import { allocate } from '../batch/values.js';
import { LITTLE_ENDIAN } from '../enforce/convert.js';

const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;
const TWO32 = 4294967296;
const TWO53 = 9007199254740992;
/** Integer tokens with more digits than this may not be exact doubles: left to the generic parser (bigints). */
const MAX_FAST_INT_DIGITS = 15;
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Dtypes `fill` writes; the others (float16, strings, datetimes, objects) go the generic way. */
export type NumericFillDType = 'float64' | 'float32' | 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32' | 'int64' | 'uint64' | 'bool';

function isFillDType(d: DType): d is NumericFillDType {
  return d !== 'float16' && d !== 'str' && d !== 'bytes' && d !== 'datetime64[ns]' && d !== 'object';
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Token kinds returned by `numberToken`. */
const NOT_A_NUMBER = 0;
const INT_TOKEN = 1;
const FLOAT_TOKEN = 2;

/**
 * The number token at `i` (the generic parser's grammar: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`,
 * plus `NaN`, `Infinity`, `-Infinity`). Returns its kind and sets `end`; integer tokens longer than
 * 15 digits count as NOT_A_NUMBER (the generic parser makes them exact bigints).
 */
class Tokenizer {
  end = 0;

  constructor(readonly s: string) {}

  numberToken(i: number): number {
    const s = this.s;
    let c = s.charCodeAt(i);
    if (c === 0x4e) {
      if (s.startsWith('NaN', i)) {
        this.end = i + 3;
        return FLOAT_TOKEN;
      }
      return NOT_A_NUMBER;
    }
    if (c === 0x49) {
      if (s.startsWith('Infinity', i)) {
        this.end = i + 8;
        return FLOAT_TOKEN;
      }
      return NOT_A_NUMBER;
    }
    let j = i;
    if (c === 0x2d) {
      if (s.startsWith('-Infinity', i)) {
        this.end = i + 9;
        return FLOAT_TOKEN;
      }
      c = s.charCodeAt(++j);
    }
    const intStart = j;
    if (c === 0x30) j++;
    else if (c >= 0x31 && c <= 0x39) {
      do j++;
      while (isDigit(s.charCodeAt(j)));
    } else return NOT_A_NUMBER;
    const intDigits = j - intStart;
    let kind = INT_TOKEN;
    if (s.charCodeAt(j) === 0x2e && isDigit(s.charCodeAt(j + 1))) {
      j += 2;
      while (isDigit(s.charCodeAt(j))) j++;
      kind = FLOAT_TOKEN;
    }
    c = s.charCodeAt(j);
    if (c === 0x65 || c === 0x45) {
      let k = j + 1;
      const sign = s.charCodeAt(k);
      if (sign === 0x2b || sign === 0x2d) k++;
      if (isDigit(s.charCodeAt(k))) {
        k++;
        while (isDigit(s.charCodeAt(k))) k++;
        j = k;
        kind = FLOAT_TOKEN;
      }
    }
    if (kind === INT_TOKEN && intDigits > MAX_FAST_INT_DIGITS) return NOT_A_NUMBER;
    this.end = j;
    return kind;
  }
}

/**
 * The value of a number token known to be valid (as `Number(text)` would give it): integers and
 * decimals whose digits stay below 2^53 with a power-of-ten exponent up to 22 are computed exactly
 * (one correctly rounded operation, Clinger's fast path); anything else goes through `Number`.
 */
function tokenValue(s: string, start: number, end: number): number {
  let i = start;
  let c = s.charCodeAt(i);
  if (c === 0x4e) return NaN;
  if (c === 0x49) return Infinity;
  let neg = false;
  if (c === 0x2d) {
    neg = true;
    c = s.charCodeAt(++i);
    if (c === 0x49) return -Infinity;
  }
  let m = 0;
  while (i < end && isDigit((c = s.charCodeAt(i)))) {
    m = m * 10 + (c - 0x30);
    i++;
  }
  let exp = 0;
  if (c === 0x2e) {
    i++;
    while (i < end && isDigit((c = s.charCodeAt(i)))) {
      m = m * 10 + (c - 0x30);
      exp--;
      i++;
    }
  }
  if (i < end) {
    // an exponent: [eE][-+]?\d+
    i++;
    let eneg = false;
    c = s.charCodeAt(i);
    if (c === 0x2d || c === 0x2b) {
      eneg = c === 0x2d;
      i++;
    }
    let e = 0;
    while (i < end) {
      e = e * 10 + (s.charCodeAt(i) - 0x30);
      i++;
      if (e > 1000) return Number(s.slice(start, end));
    }
    exp += eneg ? -e : e;
  }
  // at 2^53 and beyond the digits may have been rounded while accumulating
  if (m >= TWO53) return Number(s.slice(start, end));
  let v: number;
  if (m === 0 || exp === 0) v = m;
  else if (exp < 0 && exp >= -22) v = m / POW10[-exp]!;
  else if (exp > 0 && exp <= 22) v = m * POW10[exp]!;
  else return Number(s.slice(start, end));
  return neg ? -v : v;
}

/** A rectangular nested array of JSON numbers, located in the decoded text and not yet converted. */
export class NumericArray {
  constructor(
    /** The decoded body text. */
    private readonly text: string,
    /** Offsets of the opening `[` and just past the closing `]`. */
    private readonly start: number,
    private readonly end: number,
    /** numpy's shape of the nested lists. */
    readonly shape: readonly number[],
    /** Number of elements (the product of the shape). */
    readonly count: number,
    /** True when every element is an integer token (`np.array` infers int64), false when any is a float token. */
    readonly intOnly: boolean,
    /** For each position in the innermost lists: 1 when a float token appears there (pandas infers the column as float64). */
    readonly floatAt: Uint8Array,
  ) {}

  /** Row count (the first dimension). */
  get length(): number {
    return this.shape[0]!;
  }

  /** Calls `sink(value, k)` for each element in row-major order. */
  private each(sink: (v: number, k: number) => boolean): boolean {
    const s = this.text;
    const end = this.end;
    const tok = new Tokenizer(s);
    let k = 0;
    for (let i = this.start; i < end;) {
      const c = s.charCodeAt(i);
      if (c === 0x5b || c === 0x5d || c === 0x2c || isWs(c)) {
        i++;
        continue;
      }
      tok.numberToken(i);
      if (!sink(tokenValue(s, i, tok.end), k++)) return false;
      i = tok.end;
    }
    return true;
  }

  /**
   * The elements as storage of `dtype` (row-major), converted as `castJsonValues` does; undefined
   * when the dtype is not one this path writes or a value would be refused (the caller then decodes
   * generically for the error).
   */
  fill(dtype: DType): Storage | undefined {
    if (!isFillDType(dtype)) return undefined;
    const out = allocate(dtype, this.count);
    return this.each(writer(dtype, out, 1, 0)) ? out : undefined;
  }

  /**
   * The innermost-list positions as columns (`pd.DataFrame(rows)` of a 2-d array): one storage per
   * position, each of the given dtype; undefined as for `fill`.
   */
  fillColumns(dtypes: readonly DType[]): Storage[] | undefined {
    const width = this.shape.length === 1 ? 1 : this.shape[1]!;
    if (dtypes.length !== width || this.shape.length > 2 || !dtypes.every(isFillDType)) return undefined;
    const rows = this.length;
    const outs = (dtypes as NumericFillDType[]).map((d) => allocate(d, rows));
    const writers = (dtypes as NumericFillDType[]).map((d, j) => writer(d, outs[j]!, width, j));
    const ok = this.each((v, k) => writers[k % width]!(v, k));
    return ok ? outs : undefined;
  }
}

/**
 * A sink writing element k (of a row-major array whose innermost lists have `width` positions) to
 * `out[k / width]` when k sits at position `column`, with castJsonValues' acceptance rules; false
 * refuses the value.
 */
function writer(dtype: NumericFillDType, out: Storage, width: number, column: number): (v: number, k: number) => boolean {
  const at = width === 1 ? (k: number) => k : (k: number) => (k - column) / width;
  switch (dtype) {
    case 'float64': {
      const o = out as Float64Array;
      return (v, k) => {
        o[at(k)] = v;
        return true;
      };
    }
    case 'float32': {
      const o = out as Float32Array;
      return (v, k) => {
        if ((v > FLOAT32_MAX || v < -FLOAT32_MAX) && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) return false;
        o[at(k)] = v;
        return true;
      };
    }
    case 'bool': {
      const o = out as Uint8Array;
      return (v, k) => {
        if (v !== 0 && v !== 1) return false;
        o[at(k)] = v;
        return true;
      };
    }
    case 'int64':
    case 'uint64': {
      const a = out as BigInt64Array;
      const w = new Int32Array(a.buffer, a.byteOffset, a.length * 2);
      const unsigned = dtype === 'uint64';
      return (v, k) => {
        if (!Number.isSafeInteger(v) || (unsigned && v < 0)) return false;
        const i = at(k);
        const h = Math.floor(v / TWO32);
        w[2 * i + LO] = (v - h * TWO32) | 0;
        w[2 * i + HI] = h | 0;
        return true;
      };
    }
    default: {
      const [lo, hi] = smallIntRange(dtype)!;
      const o = out as Int32Array;
      return (v, k) => {
        if (!Number.isInteger(v) || v < lo || v > hi) return false;
        o[at(k)] = v;
        return true;
      };
    }
  }
}

/**
 * Scan the array starting at `start` (a `[`) as a rectangular nested array of numbers. Returns it
 * and the offset just past it, or undefined when it is anything else (including nesting beyond
 * `maxDepth` levels, which the generic parser then reports).
 */
export function scanNumericArray(s: string, start: number, maxDepth: number): { array: NumericArray; end: number } | undefined {
  const tok = new Tokenizer(s);
  const shape: number[] = [];
  const counts: number[] = [];
  const floatAt: number[] = [];
  let rank = -1;
  let depth = 0;
  let count = 0;
  let intOnly = true;
  let i = start;
  // open lists down to the first element
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 0x5b) {
      if (rank !== -1 && depth >= rank) return undefined;
      if (++depth > maxDepth) return undefined;
      counts[depth - 1] = 0;
      i++;
      while (isWs(s.charCodeAt(i))) i++;
      continue;
    }
    // an element: a number at the leaf depth
    if (rank === -1) rank = depth;
    else if (depth !== rank) return undefined;
    const kind = tok.numberToken(i);
    if (kind === NOT_A_NUMBER) return undefined;
    if (kind === FLOAT_TOKEN) {
      intOnly = false;
      floatAt[counts[depth - 1]!] = 1;
    }
    counts[depth - 1]!++;
    count++;
    i = tok.end;
    // after an element: `,` and the next one, or `]` closing lists
    for (;;) {
      while (isWs(s.charCodeAt(i))) i++;
      const d = s.charCodeAt(i);
      if (d === 0x2c) {
        i++;
        while (isWs(s.charCodeAt(i))) i++;
        break;
      }
      if (d !== 0x5d) return undefined;
      const n = counts[depth - 1]!;
      if (shape[depth - 1] === undefined) shape[depth - 1] = n;
      else if (shape[depth - 1] !== n) return undefined;
      i++;
      if (--depth === 0) {
        const widthAt = rank >= 1 ? shape[rank - 1]! : 0;
        const floats = new Uint8Array(widthAt);
        for (let j = 0; j < widthAt; j++) floats[j] = floatAt[j] ?? 0;
        return { array: new NumericArray(s, start, i, shape, count, intOnly, floats), end: i };
      }
      counts[depth - 1]!++;
    }
  }
}
