/**
 * JSON text exactly as Python's `json.dumps` writes it (MLflow writes signatures, input examples
 * and scoring responses that way): `", "` / `": "` separators, `ensure_ascii=True`, floats in
 * Python `repr` form, `NaN`/`Infinity` as bare tokens.
 */

/**
 * A Python float whose value is integral (`1.0`, `-0.0`, `1.0e+20`). JS numbers cannot tell `1.0`
 * from `1`, so readers wrap such floats and writers (JSON and YAML) write them back as floats.
 */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
  /** Python's `repr()` of the float, e.g. `1.0`, `1e+16`. */
  toString(): string {
    return pyFloatRepr(this.value);
  }
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form when exp < -4 or exp >= 16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest round-trip digits.
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let out: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${out}` : out;
}

/** A float as Python's json module writes it. */
export function pyJsonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pyFloatRepr(x);
}

/** A string literal with `ensure_ascii=True` escaping. */
export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
  }
  return `${out}"`;
}

export interface PyJsonOptions {
  /** Like `json.dumps(indent=n)`: newlines, n spaces per level, and `","` item separators. */
  indent?: number;
  /** Write integral JS numbers as floats (`1.0`); by default they are ints. */
  numbersAsFloats?: boolean;
}

/**
 * Serialize like `json.dumps(value)`. Numbers that are integral are written as ints unless wrapped
 * in `PyFloat` (or `numbersAsFloats`); bigints are ints; Uint8Array → base64 (MLflow's NumpyEncoder).
 */
export function pyJsonDumps(value: unknown, opts: PyJsonOptions = {}): string {
  const parts: string[] = [];
  write(value, 0, parts, opts);
  return parts.join('');
}

function write(v: unknown, depth: number, out: string[], opts: PyJsonOptions): void {
  if (v === null || v === undefined) {
    out.push('null');
  } else if (v instanceof PyFloat) {
    out.push(pyJsonFloat(v.value));
  } else if (typeof v === 'number') {
    // Integral JS numbers are Python ints, written exactly (BigInt avoids `1e+21` and rounding).
    out.push(Number.isInteger(v) && !opts.numbersAsFloats ? (Number.isSafeInteger(v) ? String(v) : BigInt(v).toString()) : pyJsonFloat(v));
  } else if (typeof v === 'bigint') {
    out.push(v.toString());
  } else if (typeof v === 'boolean') {
    out.push(v ? 'true' : 'false');
  } else if (typeof v === 'string') {
    out.push(pyJsonString(v));
  } else if (v instanceof Uint8Array) {
    out.push(pyJsonString(Buffer.from(v).toString('base64')));
  } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const items = Array.from(v as ArrayLike<unknown>);
    if (items.length === 0) {
      out.push('[]');
      return;
    }
    out.push('[');
    items.forEach((item, i) => {
      if (i > 0) out.push(opts.indent !== undefined ? ',' : ', ');
      newline(depth + 1, out, opts);
      write(item, depth + 1, out, opts);
    });
    newline(depth, out, opts);
    out.push(']');
  } else if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) {
      out.push('{}');
      return;
    }
    out.push('{');
    entries.forEach(([k, item], i) => {
      if (i > 0) out.push(opts.indent !== undefined ? ',' : ', ');
      newline(depth + 1, out, opts);
      out.push(pyJsonString(k), ': ');
      write(item, depth + 1, out, opts);
    });
    newline(depth, out, opts);
    out.push('}');
  } else {
    throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
  }
}

function newline(depth: number, out: string[], opts: PyJsonOptions): void {
  if (opts.indent !== undefined) out.push('\n', ' '.repeat(opts.indent * depth));
}

/** Python's `repr(bytes)` of the first `limit` bytes (`b'...'`), for echoing input in messages. */
export function pyBytesLiteral(b: Uint8Array, limit = b.length): string {
  let out = "b'";
  const n = Math.min(b.length, limit);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0x27) out += "\\'";
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(c);
  }
  return `${out}'`;
}
