/**
 * CSV cells → typed columns, with pandas' `read_csv` rules (see `parseCsvRequest`): pandas' NA
 * strings are missing values; a schema's column types are parsed strictly (errors name the line
 * and the value); columns without one are inferred (integers → int64, float64 when some are
 * missing, numbers → float64, True/False → bool, otherwise str; all-missing → float64).
 */
import type { DType } from '../dtype.js';
import { BinaryArray, Utf8Array } from '../batch/string-array.js';
import type { Storage } from '../batch/types.js';
import { dtypeForColumnType } from '../enforce/cast-rules.js';
import { parseIsoDatetime } from '../enforce/datetime.js';
import { LITTLE_ENDIAN } from '../enforce/convert.js';
import { typeRepr } from '../enforce/repr.js';
import type { ColSpec, Schema } from '../signature/types.js';
import { CastFailure } from '../scoring/errors.js';
import { decodeBase64 } from '../scoring/json-cast.js';

/** pandas' default `na_values`. */
const NA_VALUES = new Set([
  '',
  '#N/A',
  '#N/A N/A',
  '#NA',
  '-1.#IND',
  '-1.#QNAN',
  '-NaN',
  '-nan',
  '1.#IND',
  '1.#QNAN',
  '<NA>',
  'N/A',
  'NA',
  'NULL',
  'NaN',
  'None',
  'n/a',
  'nan',
  'null',
]);
const TRUE_VALUES = new Set(['True', 'TRUE', 'true']);
const FALSE_VALUES = new Set(['False', 'FALSE', 'false']);

const INT_RE = /^\s*[+-]?\d+\s*$/;
// Written so that no two quantifiers can match the same characters: linear time on hostile cells.
const FLOAT_RE = /^\s*[+-]?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?)\s*$/i;

const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;
const TWO32 = 4294967296;

export type Cells = readonly (string | null)[];

function isNA(v: string | null): boolean {
  return v === null || NA_VALUES.has(v);
}

/** Characters of plain decimal text: digits, `.`, `+`, `-`, `e`, `E` (Number() agrees with pandas on these). */
function isPlainNumberText(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45)) return false;
  }
  return true;
}

function isPlainIntText(v: string): boolean {
  const n = v.length;
  let i = v.charCodeAt(0) === 0x2d || v.charCodeAt(0) === 0x2b ? 1 : 0;
  if (i >= n) return false;
  for (; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isIntText(v: string): boolean {
  return isPlainIntText(v) || INT_RE.test(v);
}

function parseFloatText(v: string): number | undefined {
  if (isPlainNumberText(v)) {
    const x = Number(v);
    if (!Number.isNaN(x)) return x;
  }
  if (!FLOAT_RE.test(v)) return undefined;
  const t = v.trim().toLowerCase().replace(/^\+/, '');
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return Number(t);
}

function maskOf(cells: Cells): Uint8Array | undefined {
  let m: Uint8Array | undefined;
  for (let i = 0; i < cells.length; i++) {
    if (isNA(cells[i]!)) {
      m ??= new Uint8Array(cells.length).fill(1);
      m[i] = 0;
    }
  }
  return m;
}

function fail(where: string, what: string, v: string): never {
  throw new CastFailure(`${where}: ${what}, got ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`);
}

/** Typed storage for the cells of one column; `where(i)` names a row in messages. */
export function typedCells(cells: Cells, dtype: DType, where: (i: number) => string): { values: Storage; validity?: Uint8Array | undefined } {
  const n = cells.length;
  const validity = maskOf(cells);
  const valid = (i: number): boolean => !validity || validity[i] !== 0;
  switch (dtype) {
    case 'float64':
    case 'float32': {
      const out = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) {
        if (!valid(i)) {
          out[i] = NaN;
          continue;
        }
        const v = cells[i]!;
        const x = parseFloatText(v);
        if (x === undefined) fail(where(i), `expected a number for ${dtype}`, v);
        if (dtype === 'float32' && Number.isFinite(x) && !Number.isFinite(Math.fround(x))) fail(where(i), 'expected a number within the range of float32', v);
        out[i] = x;
      }
      return { values: out, validity };
    }
    case 'int32':
    case 'int64': {
      const out = dtype === 'int32' ? new Int32Array(n) : new BigInt64Array(n);
      const w = dtype === 'int64' ? new Int32Array(out.buffer, out.byteOffset, n * 2) : undefined;
      const [lo, hi] = dtype === 'int32' ? [-(2n ** 31n), 2n ** 31n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const v = cells[i]!;
        let x: number | bigint;
        if (isIntText(v)) {
          const t = v.trim();
          // More than 20 characters cannot be an int64 (and BigInt() of huge text is slow).
          if (t.replace(/^[+-]?0+(?=\d)/, '').length > 20) fail(where(i), `expected an integer within the range of ${dtype}`, v);
          x = t.length < 16 ? Number(t) : BigInt(t);
        } else {
          const f = parseFloatText(v);
          if (f === undefined) fail(where(i), `expected an integer for ${dtype}`, v);
          if (!Number.isInteger(f)) fail(where(i), `expected a whole number for ${dtype}`, v);
          x = f;
        }
        const big = typeof x === 'bigint' ? x : Number.isSafeInteger(x) ? undefined : BigInt(x);
        if (big !== undefined ? big < lo || big > hi : (x as number) < Number(lo) || (x as number) > Number(hi)) {
          fail(where(i), `expected an integer within the range of ${dtype}`, v);
        }
        if (w) {
          if (big !== undefined) (out as BigInt64Array)[i] = big;
          else {
            const num = x as number;
            const h = Math.floor(num / TWO32);
            w[2 * i + LO] = (num - h * TWO32) | 0;
            w[2 * i + HI] = h | 0;
          }
        } else (out as Int32Array)[i] = Number(x);
      }
      return { values: out, validity };
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const v = cells[i]!;
        if (TRUE_VALUES.has(v) || v === '1') out[i] = 1;
        else if (!FALSE_VALUES.has(v) && v !== '0') fail(where(i), 'expected True, False, true, false, 1 or 0 for bool', v);
      }
      return { values: out, validity };
    }
    case 'str':
      return { values: Utf8Array.fromStrings(cells.map((v, i) => (valid(i) ? v : null))), validity };
    case 'bytes': {
      const bufs = cells.map((v, i) => {
        if (!valid(i)) return null;
        try {
          return decodeBase64(v!);
        } catch (e) {
          throw new CastFailure(`${where(i)}: ${(e as Error).message}`);
        }
      });
      return { values: BinaryArray.fromBuffers(bufs), validity };
    }
    case 'datetime64[ns]': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const v = cells[i]!;
        const p = parseIsoDatetime(v);
        if (p === 'timezone') fail(where(i), 'expected a timezone-naive date-time (MLflow refuses timezone-aware values)', v);
        if (p === undefined) fail(where(i), 'expected an ISO 8601 date or date-time such as 2024-01-31 or 2024-01-31T12:00:00', v);
        out[i] = p.ns;
      }
      return { values: out, validity };
    }
    default:
      throw new CastFailure(`CSV columns cannot be read as ${dtype}`);
  }
}

/** pandas' inference for a column without a dtype. */
export function inferCells(cells: Cells): DType {
  let sawValue = false;
  let ints = true;
  let floats = true;
  let bools = true;
  let missing = false;
  for (const v of cells) {
    if (isNA(v)) {
      missing = true;
      continue;
    }
    sawValue = true;
    if (ints && !isIntText(v!)) ints = false;
    if (!ints && floats && parseFloatText(v!) === undefined) floats = false;
    if (bools && !TRUE_VALUES.has(v!) && !FALSE_VALUES.has(v!)) bools = false;
    if (!ints && !floats && !bools) return 'str';
  }
  if (!sawValue) return cells.length === 0 ? 'object' : 'float64';
  if (ints) {
    const fitsInt64 = cells.every((v) => {
      if (isNA(v)) return true;
      const t = v!.trim().replace(/^([+-]?)0+(?=\d)/, '$1');
      if (t.length < 19) return true;
      if (t.length > 20) return false;
      const b = BigInt(t);
      return b >= -(2n ** 63n) && b < 2n ** 63n;
    });
    return missing || !fitsInt64 ? 'float64' : 'int64';
  }
  if (floats) return 'float64';
  return bools ? 'bool' : 'str';
}

export function columnTypes(names: readonly string[], schema: Schema | null): (DType | undefined)[] {
  const out: (DType | undefined)[] = names.map(() => undefined);
  if (schema === null || schema.specs.length === 0) return out;
  if (schema.kind === 'tensors') throw new CastFailure('TensorSpec only supports numpy types, use numpy_type() instead');
  const complex = schema.specs.find((s) => typeof s.type !== 'string');
  if (complex) {
    throw new CastFailure(
      `the model signature's input ${complex.name === null ? '' : `'${complex.name}' `}has type ${typeRepr(complex.type)}, which has no pandas type: send this model JSON instead of CSV`,
    );
  }
  const typeOf = (s: ColSpec): DType => dtypeForColumnType(s.type as Exclude<ColSpec['type'], object>);
  if (schema.specs.every((s) => s.name !== null)) {
    const byName = new Map<string, ColSpec>();
    for (const s of schema.specs) if (!byName.has(s.name!)) byName.set(s.name!, s);
    names.forEach((n, j) => {
      const s = byName.get(n);
      if (s) out[j] = typeOf(s);
    });
  } else {
    for (let j = 0; j < Math.min(names.length, schema.specs.length); j++) out[j] = typeOf(schema.specs[j]!);
  }
  return out;
}
