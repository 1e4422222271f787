/**
 * The scoring codec against the models real MLflow 3.5 saved: their golden requests and
 * serving_input_example.json bodies parse into batches that enforcement accepts, golden
 * predictions encode to MLflow's exact response text, and CSV / Parquet / Arrow bodies of the
 * same data round-trip.
 */
import { readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import { Utf8Array } from '../src/batch/string-array.js';
import type { Batch, ColumnBatch, TensorBatch } from '../src/batch/types.js';
import { batchToIPC } from '../src/batch/arrow.js';
import { enforceSchema } from '../src/enforce/index.js';
import { openModelDir } from '../src/model-dir.js';
import type { ModelSignature, Schema } from '../src/signature/types.js';
import { encodePredictions, parseScoringRequest, type ScoringRequest } from '../src/scoring/index.js';
import { asColumns, asTensors } from './batch-asserts.js';
import { fixturePath } from './fixtures.js';

interface GoldenCase {
  request: Record<string, unknown>;
  predictions: unknown;
}
const golden = JSON.parse(readFileSync(fixturePath('golden.json'), 'utf8')) as { cases: Record<string, GoldenCase[]> };

const enc = new TextEncoder();
const body = (text: string): Uint8Array => enc.encode(text);

async function signatureOf(model: string): Promise<ModelSignature> {
  const dir = await openModelDir(fixturePath(model));
  const sig = dir.mlmodel.signature;
  if (!sig?.inputs) throw new Error(`${model} has no input signature`);
  return sig;
}

async function parseJson(text: string, schema: Schema | null): Promise<ScoringRequest> {
  return parseScoringRequest(body(text), 'application/json', schema);
}

function float64Values(b: ColumnBatch, name: string): number[] {
  const c = b.columns.find((x) => x.name === name)!;
  expect(c.dtype).toBe('float64');
  return Array.from(c.values as Float64Array);
}

describe('golden requests of the MLflow 3.5 fixtures', () => {
  it('iris_sklearn: dataframe_split → four float64 columns that enforcement passes through', async () => {
    const sig = await signatureOf('iris_sklearn');
    const c = golden.cases.iris_sklearn![0]!;
    const req = await parseJson(JSON.stringify(c.request), sig.inputs);
    expect(req.format).toBe('dataframe_split');
    expect(req.params).toBeNull();
    const b = asColumns(req.batch as Batch);
    expect(b.numRows).toBe(4);
    expect(b.columns.map((x) => x.name)).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    // 7.0 arrives as an integral float token, 3.0 too: still float64, exact values.
    expect(float64Values(b, 'sepal_length')).toEqual([5.1, 7.0, 6.3, 5.9]);
    expect(float64Values(b, 'petal_width')).toEqual([0.2, 1.4, 2.5, 1.8]);
    const enforced = enforceSchema(b, sig.inputs!);
    expect(asColumns(enforced).columns.map((x) => x.dtype)).toEqual(['float64', 'float64', 'float64', 'float64']);
    // Already the right dtype: enforcement passes the very same columns on.
    expect(asColumns(enforced).columns[0]!.values).toBe(b.columns[0]!.values);
  });

  it('churn_pipeline: mixed string / long / double columns get the schema types', async () => {
    const sig = await signatureOf('churn_pipeline');
    const c = golden.cases.churn_pipeline![0]!;
    const b = asColumns((await parseJson(JSON.stringify(c.request), sig.inputs)).batch as Batch);
    expect(b.columns.map((x) => [x.name, x.dtype])).toEqual([
      ['plan', 'str'],
      ['tenure_months', 'int64'],
      ['monthly_charges', 'float64'],
    ]);
    expect((b.columns[0]!.values as Utf8Array).toArray()).toEqual(['pro', 'plus', 'pro', 'pro', 'plus']);
    expect(Array.from(b.columns[1]!.values as BigInt64Array)).toEqual([46n, 58n, 32n, 47n, 16n]);
    expect(float64Values(b, 'monthly_charges')).toEqual([31.12, 75.89, 56.18, 64.33, 80.03]);
    const enforced = asColumns(enforceSchema(b, sig.inputs!));
    expect(enforced.columns.map((x) => x.dtype)).toEqual(['str', 'int64', 'float64']);
  });

  it('diabetes_tensor: inputs nested list → one float64 [4, 10] tensor', async () => {
    const sig = await signatureOf('diabetes_tensor');
    const c = golden.cases.diabetes_tensor![0]!;
    const req = await parseJson(JSON.stringify(c.request), sig.inputs);
    expect(req.format).toBe('inputs');
    const t = asTensors(req.batch as Batch).tensors;
    expect(t).toHaveLength(1);
    expect(t[0]!.name).toBeNull();
    expect(t[0]!.dtype).toBe('float64');
    expect(t[0]!.shape).toEqual([4, 10]);
    const rows = (c.request.inputs as number[][]).flat();
    expect(Array.from(t[0]!.values as Float64Array)).toEqual(rows);
    const enforced = asTensors(enforceSchema(req.batch as Batch, sig.inputs!));
    expect(enforced.tensors[0]!.shape).toEqual([4, 10]);
  });

  it('iris_onnx: inputs nested list → float32 [3, 4] tensor (values rounded to float32 like numpy)', async () => {
    const sig = await signatureOf('iris_onnx');
    const c = golden.cases.iris_onnx![0]!;
    const t = asTensors((await parseJson(JSON.stringify(c.request), sig.inputs)).batch as Batch).tensors[0]!;
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([3, 4]);
    expect(Array.from(t.values as Float32Array)).toEqual((c.request.inputs as number[][]).flat().map(Math.fround));
    expect(asTensors(enforceSchema({ kind: 'tensors', tensors: [t] }, sig.inputs!)).tensors[0]!.dtype).toBe('float32');
  });

  for (const model of ['iris_sklearn', 'churn_pipeline', 'diabetes_tensor', 'iris_onnx']) {
    it(`${model}: serving_input_example.json (indented, as MLflow wrote it) parses and passes enforcement`, async () => {
      const sig = await signatureOf(model);
      const raw = readFileSync(fixturePath(model, 'serving_input_example.json'));
      const req = await parseScoringRequest(new Uint8Array(raw), 'application/json; charset=utf-8', sig.inputs);
      const expectedRows = model === 'diabetes_tensor' || model === 'churn_pipeline' ? 2 : 3;
      const batch = req.batch as Batch;
      if (batch.kind === 'columns') expect(batch.numRows).toBe(expectedRows);
      else expect(batch.tensors[0]!.shape[0]).toBe(expectedRows);
      const enforced = enforceSchema(batch, sig.inputs!);
      expect(enforced.kind).toBe(sig.inputs!.kind);
    });
  }
});

describe('golden predictions encode to the exact text MLflow returned', () => {
  const pythonDumps = (v: unknown, floats: boolean): string => {
    // json.dumps of the golden values as Python would write them; floats print in repr form.
    if (Array.isArray(v)) return `[${v.map((x) => pythonDumps(x, floats)).join(', ')}]`;
    if (v !== null && typeof v === 'object') {
      return `{${Object.entries(v)
        .map(([k, x]) => `"${k}": ${pythonDumps(x, floats)}`)
        .join(', ')}}`;
    }
    const n = v as number;
    if (!floats) return String(n);
    const s = String(n);
    return /[.e]/.test(s) ? s.replace(/e-(\d)$/, 'e-0$1') : `${s}.0`;
  };

  it('iris_onnx: named float32 + int64 tensors → {"probabilities": [[…]], "label": […]}', () => {
    const g = golden.cases.iris_onnx![0]!.predictions as { probabilities: number[][]; label: number[] };
    // What the ONNX model computed: float32 values (the golden numbers are their exact float64 images).
    const probs = Float32Array.from(g.probabilities.flat());
    const pred: TensorBatch = {
      kind: 'tensors',
      tensors: [
        { name: 'probabilities', dtype: 'float32', shape: [3, 3], values: probs },
        { name: 'label', dtype: 'int64', shape: [3], values: BigInt64Array.from(g.label.map(BigInt)) },
      ],
    };
    const text = encodePredictions(pred);
    expect(text.startsWith('{"predictions": {"probabilities": [[0.9815917015075684, 0.018408278003335, 1.447420139299993e-08], [')).toBe(true);
    expect(text).toBe(
      '{"predictions": {"probabilities": [[0.9815917015075684, 0.018408278003335, 1.447420139299993e-08], ' +
        '[0.0021275992039591074, 0.8739734888076782, 0.12389897555112839], ' +
        '[9.037713653015089e-07, 0.003910504747182131, 0.9960886240005493]], "label": [0, 1, 2]}}',
    );
    expect(JSON.parse(text)).toEqual({ predictions: g });
  });

  it('iris_sklearn: int64 labels; churn_pipeline: float64 probabilities print 1.0 and 0.0', () => {
    const labels = golden.cases.iris_sklearn![0]!.predictions as number[];
    expect(encodePredictions({ kind: 'tensors', tensors: [{ name: null, dtype: 'int64', shape: [4], values: BigInt64Array.from(labels.map(BigInt)) }] })).toBe(
      '{"predictions": [0, 1, 2, 2]}',
    );
    const probs = golden.cases.churn_pipeline![0]!.predictions as number[][];
    const text = encodePredictions({
      kind: 'tensors',
      tensors: [{ name: null, dtype: 'float64', shape: [5, 2], values: Float64Array.from(probs.flat()) }],
    });
    expect(text).toBe(`{"predictions": ${pythonDumps(probs, true)}}`);
    expect(text).toContain('[[1.0, 0.0], [0.9683691308691309, 0.031630869130869134], [1.0, 0.0]');
  });

  it('diabetes_tensor: float64 regression outputs', () => {
    const preds = golden.cases.diabetes_tensor![0]!.predictions as number[];
    const text = encodePredictions({ kind: 'tensors', tensors: [{ name: null, dtype: 'float64', shape: [4], values: Float64Array.from(preds) }] });
    expect(text).toBe('{"predictions": [206.11667724510568, 68.07103297306881, 176.88279035105302, 166.91445843222874]}');
  });
});

describe('CSV, Parquet and Arrow bodies of the fixtures round-trip', () => {
  it('churn_pipeline as CSV: header row, typed by the schema like read_csv(dtype=…)', async () => {
    const sig = await signatureOf('churn_pipeline');
    const csv = 'plan,tenure_months,monthly_charges\r\npro,46,31.12\r\n"plus",58,75.89\r\n';
    const req = await parseScoringRequest(body(csv), 'text/csv', sig.inputs);
    expect(req.format).toBe('csv');
    expect(req.params).toBeNull();
    const b = asColumns(req.batch as Batch);
    expect(b.columns.map((c) => c.dtype)).toEqual(['str', 'int64', 'float64']);
    expect((b.columns[0]!.values as Utf8Array).toArray()).toEqual(['pro', 'plus']);
    expect(Array.from(b.columns[1]!.values as BigInt64Array)).toEqual([46n, 58n]);
    expect(Array.from(b.columns[2]!.values as Float64Array)).toEqual([31.12, 75.89]);
    expect(asColumns(enforceSchema(b, sig.inputs!)).numRows).toBe(2);
  });

  it('iris_sklearn as Parquet written by parquet-wasm: float64 columns come back, enforcement accepts them', async () => {
    const sig = await signatureOf('iris_sklearn');
    const rows = (golden.cases.iris_sklearn![0]!.request.dataframe_split as { data: number[][] }).data;
    const table = arrow.tableFromArrays({
      sepal_length: Float64Array.from(rows.map((r) => r[0]!)),
      sepal_width: Float64Array.from(rows.map((r) => r[1]!)),
      petal_length: Float64Array.from(rows.map((r) => r[2]!)),
      petal_width: Float64Array.from(rows.map((r) => r[3]!)),
    });
    const parquet = writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(table, 'stream')));
    const req = await parseScoringRequest(parquet, 'application/vnd.apache.parquet', sig.inputs);
    expect(req.format).toBe('parquet');
    const b = asColumns(req.batch as Batch);
    expect(b.numRows).toBe(4);
    expect(Array.from(b.columns[3]!.values as Float64Array)).toEqual([0.2, 1.4, 2.5, 1.8]);
    expect(asColumns(enforceSchema(b, sig.inputs!)).columns).toHaveLength(4);
  });

  it('churn_pipeline as an Arrow stream and an Arrow file', async () => {
    const sig = await signatureOf('churn_pipeline');
    const batch: ColumnBatch = {
      kind: 'columns',
      numRows: 2,
      columns: [
        { name: 'plan', dtype: 'str', values: Utf8Array.fromStrings(['pro', 'plus']) },
        { name: 'tenure_months', dtype: 'int64', values: BigInt64Array.from([46n, 58n]) },
        { name: 'monthly_charges', dtype: 'float64', values: Float64Array.from([31.12, 75.89]) },
      ],
    };
    for (const [format, type] of [
      ['stream', 'application/vnd.apache.arrow.stream'],
      ['file', 'application/vnd.apache.arrow.file'],
    ] as const) {
      const req = await parseScoringRequest(batchToIPC(batch, format), type, sig.inputs);
      expect(req.format).toBe('arrow');
      const b = asColumns(req.batch as Batch);
      expect(b.columns.map((c) => c.dtype)).toEqual(['str', 'int64', 'float64']);
      expect((b.columns[0]!.values as Utf8Array).toArray()).toEqual(['pro', 'plus']);
      expect(asColumns(enforceSchema(b, sig.inputs!)).numRows).toBe(2);
    }
  });
});
