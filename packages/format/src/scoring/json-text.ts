/**
 * JSON request bodies decoded the way MLflow's `json.loads(body)` does, safely:
 *
 * - Encoding: Python's `json.detect_encoding` (UTF-8 with or without BOM, UTF-16/32 by BOM or
 *   by the zero-byte pattern of the first bytes). Invalid text is a 400, never a 500.
 * - Grammar: strict JSON plus Python's `NaN`, `Infinity` and `-Infinity` tokens; control
 *   characters inside strings are refused (`strict=True`); errors carry Python's wording and
 *   position (`Expecting value: line 1 column 1 (char 0)`).
 * - Numbers keep the int/float distinction Python sees: integer tokens are numbers (or bigints
 *   beyond 2^53, exact like Python ints, at most 4300 digits like CPython); float tokens whose
 *   value is integral (`1.0`, `1e3`) are `PyFloat`s, other floats are numbers. `plainJson`
 *   turns the PyFloats back into numbers once dtypes have been decided.
 * - Objects are plain objects; duplicate keys keep the last value at the first position
 *   (Python dict semantics); a `__proto__` key is an ordinary own property. JS orders
 *   integer-like keys first, so their original order is remembered: read keys with `jsonKeys`.
 * - Nesting deeper than `maxDepth` is refused before any deep recursion can happen.
 * - With `numericArrays`, the values of the top-level `inputs` and `instances` keys and of
 *   `dataframe_split.data` that are rectangular nested arrays of numbers are not turned into JS
 *   values: they come back as `NumericArray`s (json-numeric.ts), converted later straight into
 *   typed storage. Any other value there is parsed as usual.
 */
import { PyFloat } from '../pyjson.js';
import { pyStrRepr } from '../enforce/repr.js';
import { invalidInput, ScoringRequestError } from './errors.js';
import { scanNumericArray } from './json-numeric.js';
import { pyBytesLiteral } from '../pyjson.js';

export interface JsonDecodeOptions {
  /** Deepest allowed nesting of arrays and objects (default 64). */
  readonly maxDepth?: number;
  /** Return numeric arrays under the top-level `inputs` and `instances` keys and `dataframe_split.data` as `NumericArray`s (default false). */
  readonly numericArrays?: boolean;
}

export const DEFAULT_MAX_DEPTH = 64;

/** The result of decoding: the value, and whether any `PyFloat` was produced (else `plainJson` is a no-op). */
export interface DecodedJson {
  readonly value: unknown;
  readonly hasPyFloats: boolean;
  /** How many `NumericArray`s the value holds (0 unless `numericArrays` was asked for). */
  readonly numericArrays: number;
}

const keyOrder = new WeakMap<object, string[]>();

/** Keys of a decoded JSON object in document order (JS would put integer-like keys first). */
export function jsonKeys(obj: object): string[] {
  return keyOrder.get(obj) ?? Object.keys(obj);
}

/** Replace every `PyFloat` inside a decoded value by its number, in place; returns the value. */
export function plainJson(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as unknown;
      if (x !== null && typeof x === 'object') v[i] = plainJson(x);
    }
    return v;
  }
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (x !== null && typeof x === 'object') o[k] = plainJson(x);
    }
  }
  return v;
}

// --- bytes → text -----------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Python's `json.detect_encoding`. */
function detectEncoding(b: Uint8Array): 'utf-8' | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be' {
  const n = b.length;
  if (n >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return 'utf-32le';
  if (n >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return 'utf-32be';
  if (n >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (n >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (n >= 4) {
    if (b[0] === 0) return b[1] ? 'utf-16be' : 'utf-32be';
    if (b[1] === 0) return b[2] || b[3] ? 'utf-16le' : 'utf-32le';
  } else if (n === 2) {
    if (b[0] === 0) return 'utf-16be';
    if (b[1] === 0) return 'utf-16le';
  }
  return 'utf-8';
}

/** Offset and byte of the first invalid UTF-8 sequence (only called once decoding has failed). */
export function firstInvalidUtf8(b: Uint8Array): { at: number; byte: number } {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return { at: i, byte: c };
    if (i + need >= b.length) return { at: i, byte: c };
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) return { at: i, byte: c };
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { at: i, byte: c };
    i += need + 1;
  }
  return { at: b.length, byte: 0 };
}

function decodeUtf32(b: Uint8Array, little: boolean): string {
  if (b.length % 4 !== 0) throw new RangeError(`truncated data: ${b.length} bytes is not a multiple of 4`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const parts: string[] = [];
  let chunk: number[] = [];
  for (let i = 0; i < b.length; i += 4) {
    const cp = view.getUint32(i, little);
    if (cp > 0x10ffff) throw new RangeError(`code point 0x${cp.toString(16)} out of range at byte ${i}`);
    if (i === 0 && cp === 0xfeff) continue;
    chunk.push(cp);
    if (chunk.length >= 8192) {
      parts.push(String.fromCodePoint(...chunk));
      chunk = [];
    }
  }
  parts.push(String.fromCodePoint(...chunk));
  return parts.join('');
}

/** The text of a JSON body (MLflow: `json.loads(bytes)`); undecodable bytes are a 400. */
export function decodeJsonText(body: Uint8Array): string {
  const enc = detectEncoding(body);
  try {
    if (enc === 'utf-8') return utf8.decode(body);
    if (enc === 'utf-32le' || enc === 'utf-32be') return decodeUtf32(body, enc === 'utf-32le');
    return new TextDecoder(enc, { fatal: true }).decode(body);
  } catch (e) {
    if (enc === 'utf-8') {
      const { at, byte } = firstInvalidUtf8(body);
      throw invalidInput(
        `The request body is not valid UTF-8 text: byte 0x${byte.toString(16).padStart(2, '0')} at offset ${at} does not start a valid UTF-8 sequence.`,
        e,
      );
    }
    throw invalidInput(`The request body is not valid ${enc.toUpperCase()} text (detected from its first bytes): ${(e as Error).message}.`, e);
  }
}

// --- text → value -----------------------------------------------------------------------------

class JsonSyntaxError extends Error {
  constructor(
    readonly msg: string,
    readonly pos: number,
  ) {
    super(msg);
  }
}

const MAX_INT_DIGITS = 4300;

function isIndexKey(k: string): boolean {
  const c = k.charCodeAt(0);
  if (c < 0x30 || c > 0x39 || k.length > 10) return false;
  if (c === 0x30) return k.length === 1;
  for (let i = 1; i < k.length; i++) {
    const d = k.charCodeAt(i);
    if (d < 0x30 || d > 0x39) return false;
  }
  return Number(k) < 4294967295;
}

class Parser {
  pos = 0;
  depth = 0;
  pyFloats = 0;
  numericArrays = 0;
  /** The top-level key whose value is being parsed (tracked only with `numeric`). */
  topKey: string | null = null;

  constructor(
    readonly s: string,
    readonly maxDepth: number,
    /** Whether to return numeric arrays at the request's data keys as `NumericArray`s. */
    readonly numeric = false,
  ) {}

  /** Whether the value of `key` in the object being parsed is a place where request data sits. */
  dataSite(key: string): boolean {
    if (this.depth === 1) return key === 'inputs' || key === 'instances';
    return this.depth === 2 && key === 'data' && this.topKey === 'dataframe_split';
  }

  /** A member's value: a `NumericArray` at a data site when the value is one, else the generic value. */
  memberValue(key: string): unknown {
    if (!this.numeric) return this.value();
    if (this.depth === 1) this.topKey = key;
    if (this.s.charCodeAt(this.pos) === 0x5b && this.dataSite(key)) {
      const scanned = scanNumericArray(this.s, this.pos, this.maxDepth - this.depth);
      if (scanned !== undefined) {
        this.pos = scanned.end;
        this.numericArrays++;
        return scanned.array;
      }
    }
    return this.value();
  }

  ws(): void {
    const s = this.s;
    let i = this.pos;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
  }

  value(): unknown {
    const s = this.s;
    const i = this.pos;
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22: // "
        return this.string();
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x6e: // n
        if (s.startsWith('null', i)) {
          this.pos = i + 4;
          return null;
        }
        break;
      case 0x74: // t
        if (s.startsWith('true', i)) {
          this.pos = i + 4;
          return true;
        }
        break;
      case 0x66: // f
        if (s.startsWith('false', i)) {
          this.pos = i + 5;
          return false;
        }
        break;
      case 0x4e: // N
        if (s.startsWith('NaN', i)) {
          this.pos = i + 3;
          return NaN;
        }
        break;
      case 0x49: // I
        if (s.startsWith('Infinity', i)) {
          this.pos = i + 8;
          return Infinity;
        }
        break;
      case 0x2d: // -
        if (s.startsWith('-Infinity', i)) {
          this.pos = i + 9;
          return -Infinity;
        }
        return this.number();
      default:
        if (c >= 0x30 && c <= 0x39) return this.number();
    }
    throw new JsonSyntaxError('Expecting value', i);
  }

  /** Python's NUMBER_RE: `(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?`. */
  number(): unknown {
    const s = this.s;
    const start = this.pos;
    let i = start;
    if (s.charCodeAt(i) === 0x2d) i++;
    const intStart = i;
    let c = s.charCodeAt(i);
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      do i++;
      while ((c = s.charCodeAt(i)) >= 0x30 && c <= 0x39);
    } else throw new JsonSyntaxError('Expecting value', start);
    const intEnd = i;
    let isFloat = false;
    if (s.charCodeAt(i) === 0x2e) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0x30 && d <= 0x39) {
        i += 2;
        while ((c = s.charCodeAt(i)) >= 0x30 && c <= 0x39) i++;
        isFloat = true;
      }
    }
    c = s.charCodeAt(i);
    if (c === 0x65 || c === 0x45) {
      let j = i + 1;
      const sign = s.charCodeAt(j);
      if (sign === 0x2b || sign === 0x2d) j++;
      const d = s.charCodeAt(j);
      if (d >= 0x30 && d <= 0x39) {
        j++;
        while ((c = s.charCodeAt(j)) >= 0x30 && c <= 0x39) j++;
        i = j;
        isFloat = true;
      }
    }
    this.pos = i;
    if (isFloat) {
      const v = Number(s.slice(start, i));
      if (Number.isInteger(v)) {
        this.pyFloats++;
        return new PyFloat(v);
      }
      return v;
    }
    const digits = intEnd - intStart;
    if (digits <= 15) return Number(s.slice(start, i));
    if (digits > MAX_INT_DIGITS) {
      throw invalidInput(
        `Ensure that input is a valid JSON formatted string. Error: an integer has ${digits} digits, more than the limit of ${MAX_INT_DIGITS} (the limit of Python's int parsing).`,
      );
    }
    const big = BigInt(s.slice(start, i));
    return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
  }

  string(): string {
    const s = this.s;
    const start = this.pos; // the opening quote
    let i = start + 1;
    // Fast path: no escapes.
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return s.slice(start + 1, i);
      }
      if (c === 0x5c) break;
      if (c < 0x20) throw new JsonSyntaxError('Invalid control character at', i);
      if (c !== c) throw new JsonSyntaxError('Unterminated string starting at', start); // NaN: end of text
      i++;
    }
    const parts: string[] = [s.slice(start + 1, i)];
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return parts.join('');
      }
      if (Number.isNaN(c)) throw new JsonSyntaxError('Unterminated string starting at', start);
      if (c < 0x20) throw new JsonSyntaxError('Invalid control character at', i);
      if (c !== 0x5c) {
        let j = i + 1;
        for (;;) {
          const d = s.charCodeAt(j);
          if (d === 0x22 || d === 0x5c || d < 0x20 || Number.isNaN(d)) break;
          j++;
        }
        parts.push(s.slice(i, j));
        i = j;
        continue;
      }
      const e = s.charCodeAt(i + 1);
      switch (e) {
        case 0x22:
          parts.push('"');
          break;
        case 0x5c:
          parts.push('\\');
          break;
        case 0x2f:
          parts.push('/');
          break;
        case 0x62:
          parts.push('\b');
          break;
        case 0x66:
          parts.push('\f');
          break;
        case 0x6e:
          parts.push('\n');
          break;
        case 0x72:
          parts.push('\r');
          break;
        case 0x74:
          parts.push('\t');
          break;
        case 0x75: {
          const hex = s.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonSyntaxError('Invalid \\uXXXX escape', i + 1);
          parts.push(String.fromCharCode(parseInt(hex, 16)));
          i += 6;
          continue;
        }
        default:
          if (Number.isNaN(e)) throw new JsonSyntaxError('Unterminated string starting at', start);
          throw new JsonSyntaxError('Invalid \\escape', i);
      }
      i += 2;
    }
  }

  enter(): void {
    if (++this.depth > this.maxDepth) {
      throw invalidInput(
        `Ensure that input is a valid JSON formatted string. Error: the JSON nests arrays and objects deeper than the limit of ${this.maxDepth} levels (at char ${this.pos}).`,
      );
    }
  }

  array(): unknown[] {
    this.enter();
    this.pos++;
    const out: unknown[] = [];
    this.ws();
    if (this.s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.ws();
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        this.depth--;
        return out;
      }
      throw new JsonSyntaxError("Expecting ',' delimiter", this.pos);
    }
  }

  object(): Record<string, unknown> {
    this.enter();
    this.pos++;
    const out: Record<string, unknown> = {};
    let order: string[] | undefined;
    this.ws();
    const s = this.s;
    if (s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      if (s.charCodeAt(this.pos) !== 0x22) throw new JsonSyntaxError('Expecting property name enclosed in double quotes', this.pos);
      const key = this.string();
      this.ws();
      if (s.charCodeAt(this.pos) !== 0x3a) throw new JsonSyntaxError("Expecting ':' delimiter", this.pos);
      this.pos++;
      this.ws();
      const v = this.memberValue(key);
      const fresh = !Object.hasOwn(out, key);
      if (order === undefined && fresh && isIndexKey(key)) order = Object.keys(out);
      if (order !== undefined && fresh) order.push(key);
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = s.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.ws();
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        this.depth--;
        if (order !== undefined) keyOrder.set(out, order);
        return out;
      }
      throw new JsonSyntaxError("Expecting ',' delimiter", this.pos);
    }
  }
}

/** Python's `repr(bytes)` of the first `limit` bytes, for echoing a bad body in an error. */
export function bytesPreview(body: Uint8Array, limit = 200): string {
  return `${pyBytesLiteral(body, limit)}${body.length > limit ? `... (${body.length} bytes)` : ''}`;
}

function syntaxError(text: string, body: Uint8Array, err: JsonSyntaxError): ScoringRequestError {
  const pos = Math.min(err.pos, text.length);
  const lineStart = text.lastIndexOf('\n', pos - 1);
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) line++;
  const col = pos - lineStart;
  const pyMessage = `${err.msg}: line ${line} column ${col} (char ${pos})`;
  return invalidInput(
    `Ensure that input is a valid JSON formatted string. Error: 'JSONDecodeError(${pyStrRepr(pyMessage)})'\nInput: \n${bytesPreview(body)}\n`,
    err,
  );
}

/** Decode a JSON request body. Every failure is a 400 `ScoringRequestError` with MLflow's message shape. */
export function decodeJson(body: Uint8Array, opts: JsonDecodeOptions = {}): DecodedJson {
  const text = decodeJsonText(body);
  const p = new Parser(text, opts.maxDepth ?? DEFAULT_MAX_DEPTH, opts.numericArrays ?? false);
  try {
    p.ws();
    const value = p.value();
    p.ws();
    if (p.pos < text.length) throw new JsonSyntaxError('Extra data', p.pos);
    return { value, hasPyFloats: p.pyFloats > 0, numericArrays: p.numericArrays };
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw syntaxError(text, body, e);
    if (e instanceof ScoringRequestError) throw e;
    if (e instanceof RangeError) {
      // Call stack exhaustion cannot happen within maxDepth, but a huge maxDepth could allow it.
      throw invalidInput(`Ensure that input is a valid JSON formatted string. Error: ${e.message}`, e);
    }
    throw e;
  }
}
