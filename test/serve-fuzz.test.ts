/**
 * Seeded fuzzing of the real `mlmodel serve` (the CLI binary, as a child process, over real
 * HTTP): 10,000 malformed or hostile requests to POST /invocations — broken JSON and text
 * encodings, absurd nesting and numbers, wrong types in every field of every JSON form, wrong
 * columns and shapes, huge strings, bodies over the limit, truncated or bit-flipped Arrow IPC and
 * Parquet, CSV garbage, odd Content-Type headers — with valid requests mixed in. When the Open
 * Inference Protocol routes exist (GET /v2/health/live is 200), /v2/models/<name>/infer is fuzzed
 * too.
 *
 * Every case is generated from `SEED` and its index alone, so a failure names the case that
 * reproduces it (set MLMODEL_FUZZ_SEED to explore other seeds).
 *
 * Asserted: each status is in the case's expected set (200 for the valid ones, with the golden
 * predictions; 400/413/415 for bad input; never a 5xx or a dropped connection); MLflow error
 * bodies are `{"error_code", "message"}` JSON except 415, which is text/plain as in MLflow; the
 * server is alive and answers /ping at the end; and its resident memory grows by less than
 * `RSS_GROWTH_LIMIT` between the end of a warmup and the end of the run (a leak of even 10 KB per
 * request would exceed it; normal V8 heap growth and allocator caching stay well below it).
 */
import * as arrow from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { Utf8Array, column, columnBatch, tensor, tensorBatch, type Batch } from '@mlmodel/format';
import { batchToIPC } from '@mlmodel/format/arrow';
import { FIXTURES, GOLDEN, PYTHON, jsonDiff, rssBytes, startServe, type ServerProcess } from './support/serve-process.js';
import { rng } from './support/test-data.js';
import { join } from 'node:path';

const SEED = Number(process.env.MLMODEL_FUZZ_SEED ?? 20261128);
const BODY_LIMIT_MB = 1;
const BODY_LIMIT = BODY_LIMIT_MB * 1024 * 1024;
const CONCURRENCY = 16;
const WARMUP = 500;
/** Largest RSS growth of the server process allowed between the warmup and the end of the run. */
const RSS_GROWTH_LIMIT = 150 * 1024 * 1024;

type Random = () => number;
const int = (r: Random, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)]!;
const enc = new TextEncoder();
const utf8 = (s: string): Uint8Array => enc.encode(s);

interface Case {
  readonly kind: string;
  /** 'mlflow' → /invocations, 'oip' → /v2/models/<name>/infer. */
  readonly route: 'mlflow' | 'oip';
  readonly contentType: string | null;
  readonly body: Uint8Array;
  /** Statuses this case may be answered with. */
  readonly allowed: readonly number[];
  /** For valid requests: the predictions a 200 must carry. */
  readonly golden?: { readonly predictions: unknown; readonly tol: number };
}

interface Profile {
  readonly model: string;
  readonly args: readonly string[];
  readonly cases: number;
  /** The golden request as sent, and what it predicts. */
  readonly golden: { readonly body: string; readonly request: Record<string, unknown>; readonly predictions: unknown; readonly tol: number };
  /** Column names of a column signature (null: tensor signature). */
  readonly columns: readonly string[] | null;
  /** A plausible row of the right types. */
  row(r: Random): unknown[];
  /** Valid Arrow IPC (stream and file) and Parquet encodings of the golden request. */
  readonly arrowStream: Uint8Array;
  readonly arrowFile: Uint8Array;
  readonly parquet: Uint8Array;
  /** Whether Arrow/Parquet bodies of the golden rows answer the golden predictions (column signatures). */
  readonly tabularIsValid: boolean;
}

function parquetOf(ipcStream: Uint8Array): Uint8Array {
  return writeParquet(WasmTable.fromIPCStream(ipcStream));
}

function irisProfile(): Profile {
  const g = GOLDEN.cases.iris_onnx![0]!;
  const rows = (g.request as { inputs: number[][] }).inputs;
  const batch: Batch = tensorBatch([tensor(null, 'float32', [rows.length, 4], Float32Array.from(rows.flat()))]);
  const stream = batchToIPC(batch, 'stream');
  // Parquet of the same numbers as four float32 columns
  const table = arrow.tableFromArrays(Object.fromEntries([0, 1, 2, 3].map((j) => [`f${j}`, Float32Array.from(rows.map((row) => row[j]!))])));
  return {
    model: 'iris_onnx',
    args: [],
    cases: 6000,
    golden: { body: JSON.stringify(g.request), request: g.request as Record<string, unknown>, predictions: g.predictions, tol: 1e-6 },
    columns: null,
    row: (r) => [0, 1, 2, 3].map(() => Math.round(r() * 80) / 10),
    arrowStream: stream,
    arrowFile: batchToIPC(batch, 'file'),
    parquet: parquetOf(arrow.tableToIPC(table, 'stream')),
    tabularIsValid: false,
  };
}

function churnProfile(): Profile {
  const g = GOLDEN.cases.churn_pipeline![0]!;
  const split = (g.request as { dataframe_split: { columns: string[]; data: [string, number, number][] } }).dataframe_split;
  const data = split.data;
  const batch: Batch = columnBatch([
    column('plan', 'str', Utf8Array.fromStrings(data.map((d) => d[0]))),
    column('tenure_months', 'int64', BigInt64Array.from(data.map((d) => BigInt(d[1])))),
    column('monthly_charges', 'float64', Float64Array.from(data.map((d) => d[2]))),
  ]);
  const stream = batchToIPC(batch, 'stream');
  return {
    model: 'churn_pipeline',
    args: ['--python', PYTHON],
    cases: 4000,
    golden: { body: JSON.stringify(g.request), request: g.request as Record<string, unknown>, predictions: g.predictions, tol: 0 },
    columns: split.columns,
    row: (r) => [pick(r, ['basic', 'plus', 'pro', '', 'PRO', 'x'.repeat(int(r, 40))]), int(r, 100), Math.round(r() * 10000) / 100],
    arrowStream: stream,
    arrowFile: batchToIPC(batch, 'file'),
    parquet: parquetOf(stream),
    tabularIsValid: true,
  };
}

// --- payload building blocks --------------------------------------------------------------------

const WEIRD_VALUES: readonly string[] = [
  'null',
  'true',
  'false',
  '0',
  '-0',
  '-0.0',
  '1',
  '1.5',
  '1e400',
  '-1e400',
  '1e-400',
  '18446744073709551617',
  '-9223372036854775809',
  '9007199254740993',
  '123456789012345678901234567890123456789',
  'NaN',
  'Infinity',
  '-Infinity',
  '""',
  '"1.5"',
  '"x"',
  '"\\u0000"',
  '"\\ud800"',
  '[]',
  '{}',
  '[[]]',
  '[{}]',
  '[null]',
  '[[null]]',
  '{"":null}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{}}}',
  '[1,"a",null,true,{}]',
  '[[1,2],[3]]',
  '[[[1]]]',
  '"2024-01-01T00:00:00"',
  '"AAAA"',
  '1.0',
  '[1.0, 2.0]',
  '{"a":[1,2,3]}',
];

/** A random JSON value (as text), sometimes weird, sometimes nested. */
function randomJson(r: Random, depth = 0): string {
  const x = r();
  if (depth > 3 || x < 0.45) return pick(r, WEIRD_VALUES);
  if (x < 0.7) return `[${Array.from({ length: int(r, 5) }, () => randomJson(r, depth + 1)).join(',')}]`;
  const keys = [
    'data',
    'columns',
    'index',
    'inputs',
    'instances',
    'params',
    'a',
    '',
    'plan',
    'tenure_months',
    'monthly_charges',
    '0',
    'name',
    'shape',
    'datatype',
  ];
  return `{${Array.from({ length: int(r, 4) }, () => `${JSON.stringify(pick(r, keys))}:${randomJson(r, depth + 1)}`).join(',')}}`;
}

function hugeString(r: Random): string {
  const n = 50_000 + int(r, 350_000);
  const unit = pick(r, ['a', 'é', '\\u0041', '"', '\\\\', '𝄞', ' ']);
  const s = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
  // keep escapes whole: a trailing lone backslash would end the string early (that is fine too)
  return unit === '"' ? s.replace(/"/g, '\\"') : s;
}

function deepNesting(r: Random): string {
  const levels = 10_000 + int(r, 2_000);
  switch (int(r, 4)) {
    case 0:
      return `{"inputs": ${'['.repeat(levels)}1${']'.repeat(levels)}}`;
    case 1:
      return `{"dataframe_records": [${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}]}`;
    case 2:
      return '['.repeat(levels); // never closed
    default:
      return `{"params": ${'{"p":'.repeat(levels)}0${'}'.repeat(levels)}, "inputs": [[1,2,3,4]]}`;
  }
}

function hugeNumber(r: Random): string {
  return pick(r, [
    '1e400',
    '-1e400',
    '1e-400',
    '18446744073709551617',
    '-0',
    '-0.0',
    'NaN',
    'Infinity',
    '-Infinity',
    '9'.repeat(5000),
    '0.' + '1'.repeat(5000),
    '1' + '0'.repeat(400) + '.5',
    '-9223372036854775809',
    '4.9e-324',
    '1.7976931348623157e309',
    '01',
    '1.',
    '.5',
    '+1',
    '0x10',
    '1e',
    '--1',
  ]);
}

/** Replace one number of a JSON text by `replacement`. */
function replaceNumber(r: Random, text: string, replacement: string): string {
  const nums = [...text.matchAll(/-?\d+(\.\d+)?([eE][-+]?\d+)?/g)];
  if (nums.length === 0) return text;
  const m = pick(r, nums);
  return text.slice(0, m.index) + replacement + text.slice(m.index! + m[0].length);
}

function rows(p: Profile, r: Random, n: number): unknown[][] {
  return Array.from({ length: n }, () => p.row(r));
}

/** A structurally wrong request in one of the JSON forms (wrong type, columns, counts, row lengths…). */
function wrongShape(p: Profile, r: Random): string {
  const data = rows(p, r, 1 + int(r, 5));
  const cols = p.columns ?? ['a', 'b', 'c', 'd'];
  const W = (): string => randomJson(r);
  switch (int(r, 18)) {
    case 0:
      return `{"dataframe_split": ${W()}}`;
    case 1:
      return `{"dataframe_split": {"columns": ${W()}, "data": ${JSON.stringify(data)}}}`;
    case 2:
      return `{"dataframe_split": {"columns": ${JSON.stringify(cols)}, "data": ${W()}}}`;
    case 3:
      return `{"dataframe_split": {"columns": ${JSON.stringify(cols)}, "data": ${JSON.stringify(data)}, "index": ${W()}}}`;
    case 4:
      return `{"dataframe_split": {"columns": ${JSON.stringify(cols)}, "data": ${JSON.stringify(data)}, "extra": 1}}`;
    case 5: {
      // wrong column names or counts
      const bad = pick(r, [cols.slice(1), [...cols, 'extra'], cols.map((c) => c.toUpperCase()), [cols[0], cols[0], cols[1]], [], cols.map(() => 'x')]);
      return `{"dataframe_split": {"columns": ${JSON.stringify(bad)}, "data": ${JSON.stringify(data)}}}`;
    }
    case 6: {
      // mismatched row lengths
      const ragged = data.map((row, i) => (i % 2 === 0 ? row.slice(0, int(r, row.length)) : [...row, ...row]));
      return `{"dataframe_split": {"columns": ${JSON.stringify(cols)}, "data": ${JSON.stringify(ragged)}}}`;
    }
    case 7:
      return `{"dataframe_records": ${W()}}`;
    case 8: {
      const recs = data.map(
        (row) =>
          `{${row.map((v, j) => `${JSON.stringify(r() < 0.2 ? `zz${j}` : (cols[j] ?? `c${j}`))}: ${r() < 0.2 ? pick(r, WEIRD_VALUES) : JSON.stringify(v)}`).join(', ')}}`,
      );
      return `{"dataframe_records": [${recs.join(', ')}]}`;
    }
    case 9:
      return `{"dataframe_records": [${Array.from({ length: 3 }, () => W()).join(',')}]}`;
    case 10:
      return `{"instances": ${W()}}`;
    case 11:
      return `{"instances": ${JSON.stringify(data.map((row) => (r() < 0.5 ? row.slice(1) : [...row, 1])))}}`;
    case 12:
      return `{"inputs": ${W()}}`;
    case 13:
      return `{"inputs": {${cols.map((c, j) => `${JSON.stringify(c)}: ${r() < 0.3 ? pick(r, WEIRD_VALUES) : JSON.stringify(data.map((d) => d[j]))}`).join(', ')}}}`;
    case 14:
      return `{"inputs": ${JSON.stringify(data.map((row) => row.slice(0, 1 + int(r, row.length + 2))))}}`;
    case 15:
      return `{"inputs": ${JSON.stringify(data)}, "params": ${W()}}`;
    case 16: {
      // several forms at once, or none
      const keys = pick(r, [['inputs', 'instances'], ['dataframe_split', 'dataframe_records'], ['params'], ['Inputs'], ['inputs ', 'data'], []]);
      return `{${keys.map((k) => `${JSON.stringify(k)}: ${JSON.stringify(data)}`).join(', ')}}`;
    }
    default:
      return randomJson(r);
  }
}

function mutateBytes(r: Random, b: Uint8Array, flips: number): Uint8Array {
  const out = Uint8Array.from(b);
  for (let i = 0; i < flips; i++) {
    const at = int(r, out.length);
    if (r() < 0.5) out[at] = out[at]! ^ (1 << int(r, 8));
    else out[at] = int(r, 256);
  }
  return out;
}

function csvGarbage(p: Profile, r: Random): string {
  const cols = p.columns ?? ['a', 'b', 'c', 'd'];
  switch (int(r, 7)) {
    case 0:
      return '';
    case 1:
      return (
        cols.join(',') +
        '\n' +
        rows(p, r, 3)
          .map((row) => row.slice(0, int(r, row.length + 2)).join(','))
          .join('\n')
      );
    case 2:
      return '"unterminated,' + cols.join(',') + '\n1,2';
    case 3:
      return (
        cols.join(';') +
        '\n' +
        rows(p, r, 2)
          .map((row) => row.join(';'))
          .join('\n')
      );
    case 4:
      return (
        cols.join(',') +
        '\n' +
        rows(p, r, 2)
          .map((row) => row.map((v) => (r() < 0.3 ? pick(r, ['NaN', 'inf', '1e400', '', '"a""b"', 'x\ny']) : String(v))).join(','))
          .join('\r\n')
      );
    case 5:
      return (
        '\uFEFF' +
        cols.join(',') +
        '\n' +
        rows(p, r, 2)
          .map((row) => row.join(','))
          .join('\n')
      );
    default:
      return Array.from({ length: 1 + int(r, 200) }, () => String.fromCharCode(int(r, 128))).join('');
  }
}

/** A valid request under an odd Content-Type, with the statuses that type must get. */
function oddContentType(p: Profile, r: Random): { ct: string | null; allowed: number[] } {
  const ok = [200];
  return pick(r, [
    { ct: null, allowed: [415] },
    { ct: '', allowed: [415] },
    { ct: ' ', allowed: [415] },
    { ct: 'application/json; charset=utf-16', allowed: [415] },
    { ct: 'application/json; charset=latin1', allowed: [415] },
    { ct: 'application/json; charset=', allowed: [415] },
    { ct: 'APPLICATION/JSON', allowed: [415] },
    { ct: 'application/JSON', allowed: [415] },
    { ct: 'application/json; format=pandas-split', allowed: [415] },
    { ct: 'application/json; boundary=x', allowed: [415] },
    { ct: 'text/plain', allowed: [415] },
    { ct: 'application/x-www-form-urlencoded', allowed: [415] },
    { ct: 'multipart/form-data; boundary=xyz', allowed: [415] },
    { ct: 'application/csv', allowed: [415] },
    { ct: '*/*', allowed: [415] },
    { ct: 'application/*', allowed: [415] },
    { ct: '/', allowed: [415] },
    { ct: 'json', allowed: [415] },
    { ct: 'application /json', allowed: [415] },
    { ct: 'application/json, text/csv', allowed: [415] },
    { ct: 'application/json; charset=utf-8; charset=latin1', allowed: [415] },
    { ct: `application/json; ${'x'.repeat(4000)}=1`, allowed: [415] },
    { ct: 'application/json; charset=UTF-8', allowed: ok },
    { ct: 'application/json;charset=utf-8', allowed: ok },
    { ct: 'application/json;;;', allowed: ok },
    { ct: 'application/json; charset="utf-8"', allowed: ok },
    { ct: ' application/json ', allowed: ok },
    // the body is JSON, the type says otherwise
    { ct: 'text/csv', allowed: [200, 400] },
    { ct: 'application/vnd.apache.parquet', allowed: [400] },
    { ct: 'application/vnd.apache.arrow.stream', allowed: [400] },
    { ct: 'application/vnd.apache.arrow.file', allowed: [400] },
    { ct: Array.from({ length: 1 + int(r, 30) }, () => String.fromCharCode(0x21 + int(r, 94))).join(''), allowed: [415] },
  ]);
}

/** Encode text as UTF-16/32 (with or without BOM), as Python's json.loads(bytes) auto-detects. */
function encodeAs(text: string, encoding: 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be', bom: boolean): Uint8Array {
  const cps = [...((bom ? '\uFEFF' : '') + text)].map((c) => c.codePointAt(0)!);
  if (encoding.startsWith('utf-32')) {
    const out = new DataView(new ArrayBuffer(cps.length * 4));
    cps.forEach((cp, i) => out.setUint32(i * 4, cp, encoding === 'utf-32le'));
    return new Uint8Array(out.buffer);
  }
  const units: number[] = [];
  for (const cp of cps) {
    if (cp < 0x10000) units.push(cp);
    else units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
  }
  const out = new DataView(new ArrayBuffer(units.length * 2));
  units.forEach((u, i) => out.setUint16(i * 2, u, encoding === 'utf-16le'));
  return new Uint8Array(out.buffer);
}

/** The MLflow-route case number `i` of a profile: a pure function of (SEED, model, i). */
function mlflowCase(p: Profile, i: number): Case {
  const r = rng((SEED ^ Math.imul(i + 1, 0x9e3779b1) ^ (p.model.length << 24)) >>> 0);
  const golden = { predictions: p.golden.predictions, tol: p.golden.tol };
  const json = (kind: string, text: string | Uint8Array, allowed: number[], extra: Partial<Case> = {}): Case => ({
    kind,
    route: 'mlflow',
    contentType: 'application/json',
    body: typeof text === 'string' ? utf8(text) : text,
    allowed,
    ...extra,
  });
  const x = r() * 100;
  if (x < 4) return json('valid', p.golden.body, [200], { golden });
  if (x < 6) {
    const [encoding, bom] = pick(r, [
      ['utf-8', true],
      ['utf-16le', true],
      ['utf-16be', true],
      ['utf-16le', false],
      ['utf-16be', false],
      ['utf-32le', true],
      ['utf-32be', false],
    ] as const);
    const body = encoding === 'utf-8' ? utf8('\uFEFF' + p.golden.body) : encodeAs(p.golden.body, encoding, bom);
    return json(`valid-${encoding}${bom ? '-bom' : ''}`, body, [200], { golden });
  }
  if (x < 8 && p.tabularIsValid) {
    const [kind, ct, body] = pick(r, [
      ['valid-arrow-stream', 'application/vnd.apache.arrow.stream', p.arrowStream],
      ['valid-arrow-file', 'application/vnd.apache.arrow.file', p.arrowFile],
      ['valid-parquet', 'application/vnd.apache.parquet', p.parquet],
    ] as const);
    return { kind, route: 'mlflow', contentType: ct, body, allowed: [200], golden };
  }
  if (x < 14) {
    const cut = int(r, p.golden.body.length);
    return json('truncated-json', p.golden.body.slice(0, cut), [400]);
  }
  if (x < 18) {
    const n = int(r, 300);
    return json(
      'random-bytes',
      Uint8Array.from({ length: n }, () => int(r, 256)),
      [400],
    );
  }
  if (x < 22) {
    // invalid UTF-8 inside an otherwise valid request
    const bad = pick(r, [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80]]);
    const text = utf8(p.golden.body);
    const quote = text.indexOf(0x22, 1 + int(r, text.length - 2));
    const at = quote < 0 ? 1 : quote + 1;
    return json('bad-utf8', Uint8Array.from([...text.subarray(0, at), ...bad, ...text.subarray(at)]), [400]);
  }
  if (x < 24)
    return json(
      'bom-garbage',
      Uint8Array.from([
        ...pick(r, [
          [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf],
          [0xff, 0xfe],
          [0xfe, 0xff, 0x00],
          [0x00, 0x00, 0xfe, 0xff, 0x00],
        ]),
        ...utf8(p.golden.body.slice(0, int(r, 20))),
      ]),
      [400],
    );
  if (x < 27) return json('deep-nesting', deepNesting(r), [400]);
  if (x < 35) return json('huge-number', replaceNumber(r, p.golden.body, hugeNumber(r)), [200, 400]);
  if (x < 57) return json('wrong-shape', wrongShape(p, r), [200, 400]);
  if (x < 60) {
    const s = hugeString(r);
    const where = int(r, 4);
    const text =
      where === 0
        ? `{"inputs": [["${s}", 1, 2, 3]]}`
        : where === 1
          ? `{"dataframe_split": {"columns": ["${s}"], "data": [[1]]}}`
          : where === 2
            ? `{"${s}": 1, "inputs": [[1,2,3,4]]}`
            : `{"dataframe_records": [{"plan": "${s}", "tenure_months": 1, "monthly_charges": 2.5}]}`;
    const body = utf8(text);
    return json('huge-string', body, body.length > BODY_LIMIT ? [413] : [200, 400]);
  }
  if (x < 62) {
    // over --body-limit-mb, declared up front (Content-Length)
    const size = BODY_LIMIT + 1 + int(r, BODY_LIMIT / 2);
    const ct = pick(r, ['application/json', 'text/csv', 'application/vnd.apache.parquet', 'application/vnd.apache.arrow.stream']);
    const body = new Uint8Array(size).fill(0x20);
    body.set(utf8(p.golden.body.slice(0, -1)));
    return { kind: 'oversized', route: 'mlflow', contentType: ct, body, allowed: [413] };
  }
  if (x < 68) {
    const [ct, valid] = pick(r, [
      ['application/vnd.apache.arrow.stream', p.arrowStream],
      ['application/vnd.apache.arrow.file', p.arrowFile],
    ] as const);
    const cut = int(r, valid.length);
    return { kind: 'truncated-arrow', route: 'mlflow', contentType: ct, body: valid.subarray(0, cut), allowed: [200, 400] };
  }
  if (x < 74) {
    const [ct, valid] = pick(r, [
      ['application/vnd.apache.arrow.stream', p.arrowStream],
      ['application/vnd.apache.arrow.file', p.arrowFile],
    ] as const);
    return { kind: 'bitflip-arrow', route: 'mlflow', contentType: ct, body: mutateBytes(r, valid, 1 + int(r, 8)), allowed: [200, 400, 413] };
  }
  if (x < 77) {
    return {
      kind: 'truncated-parquet',
      route: 'mlflow',
      contentType: 'application/vnd.apache.parquet',
      body: p.parquet.subarray(0, int(r, p.parquet.length)),
      allowed: [400],
    };
  }
  if (x < 81) {
    return {
      kind: 'bitflip-parquet',
      route: 'mlflow',
      contentType: 'application/vnd.apache.parquet',
      body: mutateBytes(r, p.parquet, 1 + int(r, 8)),
      allowed: [200, 400, 413],
    };
  }
  if (x < 86)
    return {
      kind: 'csv-garbage',
      route: 'mlflow',
      contentType: pick(r, ['text/csv', 'text/csv; charset=utf-8']),
      body: utf8(csvGarbage(p, r)),
      allowed: p.columns ? [200, 400] : [400],
    };
  if (x < 93) {
    const { ct, allowed } = oddContentType(p, r);
    return {
      kind: 'content-type',
      route: 'mlflow',
      contentType: ct,
      body: utf8(p.golden.body),
      allowed,
      ...(allowed.length === 1 && allowed[0] === 200 ? { golden } : {}),
    };
  }
  if (x < 97) {
    // one byte of a valid request changed
    return json('mutated-json', mutateBytes(r, utf8(p.golden.body), 1), [200, 400]);
  }
  return json('random-json', randomJson(r), [200, 400]);
}

/** An Open Inference Protocol case (only when the server has the /v2 routes). */
function oipCase(p: Profile, i: number): Case {
  const r = rng((SEED ^ Math.imul(i + 7, 0x85ebca6b)) >>> 0);
  const data = rows(p, r, 1 + int(r, 3));
  const good = p.columns
    ? {
        inputs: p.columns.map((c, j) => ({
          name: c,
          shape: [data.length],
          datatype: j === 0 ? 'BYTES' : j === 1 ? 'INT64' : 'FP64',
          data: data.map((d) => d[j]),
        })),
      }
    : { inputs: [{ name: 'input-0', shape: [data.length, 4], datatype: 'FP32', data: data.flat() }] };
  const text = JSON.stringify(good);
  const W = (): string => randomJson(r);
  const pickBody = int(r, 12);
  const body =
    pickBody === 0
      ? text.slice(0, int(r, text.length))
      : pickBody === 1
        ? `{"inputs": ${W()}}`
        : pickBody === 2
          ? `{"inputs": [{"name": ${W()}, "shape": ${W()}, "datatype": ${W()}, "data": ${W()}}]}`
          : pickBody === 3
            ? `{"inputs": [{"name": "input-0", "shape": [${hugeNumber(r)}, 4], "datatype": "FP32", "data": [1,2,3,4]}]}`
            : pickBody === 4
              ? `{"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "${pick(r, ['FP16', 'BF16', 'BOOL', 'UINT64', 'BYTES', 'fp32', 'XYZ', ''])}", "data": ${W()}}]}`
              : pickBody === 5
                ? `{"inputs": ${JSON.stringify(good.inputs)}, "outputs": ${W()}, "parameters": ${W()}}`
                : pickBody === 6
                  ? deepNesting(r)
                  : pickBody === 7
                    ? replaceNumber(r, text, hugeNumber(r))
                    : pickBody === 8
                      ? `{"id": ${W()}, "inputs": ${JSON.stringify(good.inputs)}}`
                      : pickBody === 9
                        ? `{"inputs": [{"name": "input-0", "shape": [${int(r, 5)}, ${int(r, 6)}], "datatype": "FP32", "data": ${JSON.stringify(Array.from({ length: int(r, 30) }, () => r()))}}]}`
                        : pickBody === 10
                          ? text
                          : W();
  const ct = pick(r, ['application/json', 'application/json', 'application/json', 'text/plain', null, 'application/octet-stream']);
  return { kind: `oip-${pickBody}`, route: 'oip', contentType: ct, body: utf8(body), allowed: [200, 400, 413, 415] };
}

// --- running ------------------------------------------------------------------------------------

interface Outcome {
  readonly index: number;
  readonly kind: string;
  readonly status: number | 'network-error';
  readonly problem: string | null;
  readonly ms: number;
}

async function send(server: ServerProcess, model: string, c: Case): Promise<{ status: number; contentType: string; body: Buffer } | { error: unknown }> {
  const headers: Record<string, string> = {};
  if (c.contentType !== null) headers['content-type'] = c.contentType;
  const path = c.route === 'mlflow' ? '/invocations' : `/v2/models/${model}/infer`;
  try {
    const res = await fetch(server.url + path, { method: 'POST', headers, body: c.body });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
  } catch (e) {
    return { error: e };
  }
}

/** What is wrong with a response for a case, or null. */
function check(c: Case, status: number, contentType: string, body: Buffer): string | null {
  if (!c.allowed.includes(status)) return `status ${status} not in [${c.allowed.join(', ')}]: ${body.toString('utf8', 0, 300)}`;
  if (status === 200) {
    if (!contentType.startsWith('application/json')) return `200 with content-type ${contentType}`;
    if (c.golden) {
      let parsed: { predictions?: unknown };
      try {
        parsed = JSON.parse(body.toString('utf8')) as { predictions?: unknown };
      } catch {
        return `200 body is not JSON: ${body.toString('utf8', 0, 200)}`;
      }
      const diff = jsonDiff(parsed.predictions, c.golden.predictions, c.golden.tol);
      if (diff) return `wrong predictions: ${diff}`;
    }
    return null;
  }
  if (c.route === 'oip') {
    try {
      const e = JSON.parse(body.toString('utf8')) as { error?: unknown };
      return typeof e.error === 'string' && e.error.length > 0 ? null : `OIP error body without "error": ${body.toString('utf8', 0, 200)}`;
    } catch {
      return `OIP error body is not JSON (${contentType}): ${body.toString('utf8', 0, 200)}`;
    }
  }
  if (status === 415) {
    if (!contentType.startsWith('text/plain')) return `415 with content-type ${contentType} (MLflow answers text/plain): ${body.toString('utf8', 0, 200)}`;
    return body.length > 0 ? null : '415 with an empty body';
  }
  if (!contentType.startsWith('application/json')) return `${status} with content-type ${contentType}: ${body.toString('utf8', 0, 200)}`;
  try {
    const e = JSON.parse(body.toString('utf8')) as { error_code?: unknown; message?: unknown };
    if (typeof e.error_code !== 'string' || typeof e.message !== 'string' || e.message.length === 0)
      return `error body without error_code/message: ${body.toString('utf8', 0, 200)}`;
  } catch {
    return `error body is not JSON: ${body.toString('utf8', 0, 200)}`;
  }
  return null;
}

async function fuzz(profile: Profile): Promise<void> {
  const server = await startServe(['-m', join(FIXTURES, profile.model), ...profile.args, '--body-limit-mb', String(BODY_LIMIT_MB)]);
  servers.push(server);
  const live = await fetch(`${server.url}/v2/health/live`).then(
    async (r) => (await r.arrayBuffer(), r.status === 200),
    () => false,
  );
  // with the OIP routes present, one request in ten goes to /v2/models/<name>/infer
  const caseAt = (i: number): Case => (live && i % 10 === 9 ? oipCase(profile, i) : mlflowCase(profile, i));
  const outcomes: Outcome[] = [];
  let next = 0;
  let rssAfterWarmup = 0;
  let warmupDone: () => void;
  const warm = new Promise<void>((resolve) => (warmupDone = resolve));
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= profile.cases) return;
      if (i >= WARMUP) await warm;
      const c = caseAt(i);
      const t0 = performance.now();
      const res = await send(server, profile.model, c);
      const ms = performance.now() - t0;
      if ('error' in res) {
        const cause = (res.error as { cause?: { code?: string; message?: string } }).cause;
        outcomes.push({
          index: i,
          kind: c.kind,
          status: 'network-error',
          problem: `request failed: ${cause?.code ?? ''} ${cause?.message ?? String(res.error)}`,
          ms,
        });
      } else {
        outcomes.push({ index: i, kind: c.kind, status: res.status, problem: check(c, res.status, res.contentType, res.body), ms });
      }
      if (outcomes.length === WARMUP) {
        rssAfterWarmup = rssBytes(server.pid);
        warmupDone();
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const rssEnd = rssBytes(server.pid);

  // summary: statuses by kind
  const byKind = new Map<string, Map<string, number>>();
  for (const o of outcomes) {
    const m = byKind.get(o.kind) ?? new Map<string, number>();
    m.set(String(o.status), (m.get(String(o.status)) ?? 0) + 1);
    byKind.set(o.kind, m);
  }
  const totals = new Map<string, number>();
  for (const o of outcomes) totals.set(String(o.status), (totals.get(String(o.status)) ?? 0) + 1);
  const msByKind = new Map<string, number>();
  for (const o of outcomes) msByKind.set(o.kind, (msByKind.get(o.kind) ?? 0) + o.ms);
  const lines = [...byKind]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([k, m]) =>
        `  ${k.padEnd(22)} ${[...m]
          .sort()
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')
          .padEnd(24)} ${(msByKind.get(k)! / 1000).toFixed(1)} s`,
    );
  console.log(
    `serve fuzz ${profile.model} (seed ${SEED}${live ? ', with OIP' : ', no OIP routes'}): ${outcomes.length} requests in ${seconds.toFixed(1)} s; ` +
      `statuses ${[...totals]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}; RSS ${(rssAfterWarmup / 2 ** 20).toFixed(0)} → ${(rssEnd / 2 ** 20).toFixed(0)} MiB\n${lines.join('\n')}`,
  );

  const problems = outcomes.filter((o) => o.problem !== null);
  const report = problems
    .slice(0, 15)
    .map((o) => `#${o.index} ${o.kind}: ${o.problem}`)
    .join('\n');
  expect(problems.length, `${problems.length} bad responses (seed ${SEED}), first ones:\n${report}\nserver stderr:\n${server.stderr().slice(-3000)}`).toBe(0);
  expect(outcomes.some((o) => typeof o.status === 'number' && o.status >= 500)).toBe(false);
  expect(outcomes.filter((o) => o.status === 200 && o.kind === 'valid').length).toBeGreaterThan(0);

  // still alive and well
  expect(server.alive()).toBe(true);
  const ping = await fetch(`${server.url}/ping`);
  await ping.arrayBuffer();
  expect(ping.status).toBe(200);
  const again = await send(server, profile.model, {
    kind: 'valid',
    route: 'mlflow',
    contentType: 'application/json',
    body: utf8(profile.golden.body),
    allowed: [200],
  });
  expect('status' in again && again.status).toBe(200);
  expect(rssEnd - rssAfterWarmup, `RSS grew from ${rssAfterWarmup} to ${rssEnd} bytes`).toBeLessThan(RSS_GROWTH_LIMIT);
  server.kill();
  await server.exited;
}

const servers: ServerProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill();
});

describe('mlmodel serve under 10,000 hostile requests (seeded fuzz)', () => {
  it('iris_onnx (tensor signature): 6,000 requests, no 5xx, MLflow error bodies, alive, bounded memory', async () => {
    await fuzz(irisProfile());
  }, 120_000);

  it('churn_pipeline (columns: string, long, double; Python): 4,000 requests, no 5xx, MLflow error bodies, alive, bounded memory', async () => {
    await fuzz(churnProfile());
  }, 120_000);
});
