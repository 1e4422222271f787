/**
 * MLflow parity of JSON scoring requests, end to end through the public path every front end
 * takes (`parseScoringRequest`, then `enforceSchema`), with the signatures of the models real
 * MLflow 3.5 saved in ../shared/fixtures:
 *
 * - casting: what pandas' `astype` / numpy's `np.array(dtype=…)` convert (numeric strings) is
 *   scored in all four forms; what they would change silently is refused (deliberate, listed in
 *   packages/serve/README.md);
 * - column binding: positional rows (a list of lists, `dataframe_split` without `columns`, a
 *   scalar) to a named column signature fail with MLflow's `Model is missing inputs [...]. Note
 *   that there were extra inputs: [0, 1, ...].` (pandas labels them 0, 1, …);
 * - duplicate column names: refused when the signature reads the column (MLflow fails there too,
 *   with `'DataFrame' object has no attribute 'dtype'`), dropped with the extras otherwise.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Batch, Column, ColumnBatch } from '../src/batch/types.js';
import { valueAt } from '../src/batch/values.js';
import { enforceSchema, InputSchemaError } from '../src/enforce/index.js';
import { openModelDir } from '../src/model-dir.js';
import { parseScoringRequest, ScoringRequestError } from '../src/scoring/index.js';
import type { Schema } from '../src/signature/types.js';
import { fixturePath } from './fixtures.js';

const IRIS_COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const IRIS_MISSING = "Model is missing inputs ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].";

const schemas: Record<string, Schema> = {};
beforeAll(async () => {
  for (const m of ['iris_sklearn', 'churn_pipeline']) {
    schemas[m] = (await openModelDir(fixturePath(m))).mlmodel.signature!.inputs!;
  }
});

/** Parse and enforce like the runner; returns the enforced columns or the error. */
async function score(model: string, body: unknown): Promise<ColumnBatch | ScoringRequestError | InputSchemaError> {
  const schema = schemas[model]!;
  try {
    const req = await parseScoringRequest(new TextEncoder().encode(JSON.stringify(body)), 'application/json', schema);
    return enforceSchema(req.batch as Batch, schema) as ColumnBatch;
  } catch (e) {
    if (e instanceof ScoringRequestError || e instanceof InputSchemaError) return e;
    throw e;
  }
}

function cells(c: Column, n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => {
    if (c.validity && c.validity[i] === 0) return null;
    const v = c.dtype === 'str' ? c.values.get(i) : valueAt(c.dtype, c.values, i);
    return typeof v === 'bigint' ? Number(v) : v;
  });
}

function asRecord(b: ColumnBatch): Record<string, unknown[]> {
  return Object.fromEntries(b.columns.map((c) => [c.name, cells(c, b.numRows)]));
}

const iris = (row: unknown[]): Record<string, unknown> => Object.fromEntries(IRIS_COLUMNS.map((c, j) => [c, row[j]]));

describe('numeric strings are scored as pandas astype / np.array read them (MLflow scores them)', () => {
  const expected = { sepal_length: [5.1], sepal_width: [3.5], petal_length: [1.4], petal_width: [0.2] };
  const row = ['5.1', ' 3.5 ', '1.4', 0.2];
  const cases: [string, unknown][] = [
    ['dataframe_split', { dataframe_split: { columns: IRIS_COLUMNS, data: [row] } }],
    ['dataframe_records', { dataframe_records: [iris(row)] }],
    ['instances (records)', { instances: [iris(row)] }],
    ['inputs (dict of columns)', { inputs: Object.fromEntries(IRIS_COLUMNS.map((c, j) => [c, [row[j]]])) }],
    ['inputs (records)', { inputs: [iris(row)] }],
  ];
  for (const [form, body] of cases) {
    it(`${form}: "5.1" for a double column is 5.1`, async () => {
      const out = await score('iris_sklearn', body);
      expect(out).not.toBeInstanceOf(Error);
      expect(asRecord(out as ColumnBatch)).toEqual(expected);
    });
  }

  it('integer strings for a long column, in Python int() syntax ("+46", " 46 ", "4_6")', async () => {
    for (const text of ['46', '+46', ' 46 ', '4_6']) {
      const out = await score('churn_pipeline', { dataframe_split: { columns: ['plan', 'tenure_months', 'monthly_charges'], data: [['pro', text, '31.12']] } });
      expect(asRecord(out as ColumnBatch), text).toEqual({ plan: ['pro'], tenure_months: [46], monthly_charges: [31.12] });
    }
  });

  it('float strings in float() syntax: exponents, nan and inf', async () => {
    const out = await score('iris_sklearn', { dataframe_records: [iris(['1e1', 'nan', '-Infinity', '.5'])] });
    expect(asRecord(out as ColumnBatch)).toEqual({ sepal_length: [10], sepal_width: [NaN], petal_length: [-Infinity], petal_width: [0.5] });
  });
});

describe('what pandas/numpy refuse, or would change silently, is refused with the column and value named', () => {
  const churn = (row: unknown[]): unknown => ({ dataframe_split: { columns: ['plan', 'tenure_months', 'monthly_charges'], data: [row] } });
  const cases: [string, unknown, string][] = [
    // pandas refuses these too ("invalid literal for int() with base 10: '46.0'", "could not convert string to float: 'abc'")
    [
      '"46.0" for long',
      churn(['pro', '46.0', 1.5]),
      `Failed to convert column tenure_months to type 'int64'. Error: 'row 0: expected an integer for int64, got the string "46.0"'`,
    ],
    [
      '"abc" for double',
      churn(['pro', 46, 'abc']),
      `Failed to convert column monthly_charges to type 'float64'. Error: 'row 0: expected a number for float64, got the string "abc"'`,
    ],
    [
      '"" for double',
      churn(['pro', 46, '']),
      `Failed to convert column monthly_charges to type 'float64'. Error: 'row 0: expected a number for float64, got the string ""'`,
    ],
    // deliberate: pandas truncates 46.5 to 46
    [
      '46.5 for long',
      churn(['pro', 46.5, 1.5]),
      `Failed to convert column tenure_months to type 'int64'. Error: 'row 0: expected a whole number for int64, got the number 46.5'`,
    ],
  ];
  for (const [what, body, message] of cases) {
    it(what, async () => {
      const e = await score('churn_pipeline', body);
      expect(e).toBeInstanceOf(ScoringRequestError);
      expect((e as ScoringRequestError).httpStatus).toBe(400);
      expect((e as ScoringRequestError).errorCode).toBe('BAD_REQUEST');
      expect((e as Error).message).toBe(`Invalid input. Data is not compatible with model signature. ${message}`);
    });
  }

  it('a number for a string column (MLflow passes the raw value on; refused here, naming the column)', async () => {
    const e = await score('churn_pipeline', churn([7, 46, 1.5]));
    expect(e).toBeInstanceOf(InputSchemaError);
    expect((e as InputSchemaError).detail).toBe('Incompatible input types for column plan. Can not safely convert object to str.');
  });
});

describe('positional rows to a named column signature are refused as MLflow refuses them', () => {
  const cases: [string, unknown, string][] = [
    ['instances: a list of lists', { instances: [[5.1, 3.5, 1.4, 0.2]] }, '[0, 1, 2, 3]'],
    [
      'inputs: a list of lists',
      {
        inputs: [
          [5.1, 3.5, 1.4, 0.2],
          [7, 3.2, 4.7, 1.4],
        ],
      },
      '[0, 1, 2, 3]',
    ],
    ['dataframe_split without columns', { dataframe_split: { data: [[5.1, 3.5, 1.4, 0.2]] } }, '[0, 1, 2, 3]'],
    ['dataframe_records as lists', { dataframe_records: [[5.1, 3.5, 1.4, 0.2]] }, '[0, 1, 2, 3]'],
    ['inputs: a flat list', { inputs: [5.1, 3.5, 1.4, 0.2] }, '[0]'],
    ['inputs: a scalar', { inputs: 5.1 }, '[0]'],
  ];
  for (const [form, body, extras] of cases) {
    it(form, async () => {
      const e = await score('iris_sklearn', body);
      expect(e).toBeInstanceOf(InputSchemaError);
      const err = e as InputSchemaError;
      expect(err.detail).toBe(`${IRIS_MISSING} Note that there were extra inputs: ${extras}.`);
      expect(err.message).toMatch(/^Failed to enforce schema of data '.*' with schema '\['sepal_length': double \(required\), /);
      expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE'); // HTTP 400
    });
  }

  it('numeric labels never match a schema name, even "0" (pandas: 0 is not \'0\')', async () => {
    const schema: Schema = {
      kind: 'columns',
      specs: [
        { kind: 'column', name: '0', type: 'double', required: true },
        { kind: 'column', name: '1', type: 'double', required: true },
      ],
    };
    const req = await parseScoringRequest(new TextEncoder().encode('{"dataframe_split": {"data": [[1.5, 2.5]]}}'), 'application/json', schema);
    expect(() => enforceSchema(req.batch as Batch, schema)).toThrow("Model is missing inputs ['0', '1']. Note that there were extra inputs: [0, 1].");
    const named = await parseScoringRequest(
      new TextEncoder().encode('{"dataframe_split": {"columns": ["0", "1"], "data": [[1.5, 2.5]]}}'),
      'application/json',
      schema,
    );
    expect((enforceSchema(named.batch as Batch, schema) as ColumnBatch).columns.map((c) => c.name)).toEqual(['0', '1']);
  });

  it('named forms of the same rows are scored', async () => {
    for (const body of [
      { dataframe_split: { columns: IRIS_COLUMNS, data: [[5.1, 3.5, 1.4, 0.2]] } },
      { instances: [iris([5.1, 3.5, 1.4, 0.2])] },
      { inputs: [iris([5.1, 3.5, 1.4, 0.2])] },
      { inputs: Object.fromEntries(IRIS_COLUMNS.map((c, j) => [c, [[5.1, 3.5, 1.4, 0.2][j]]])) },
    ]) {
      const out = await score('iris_sklearn', body);
      expect(asRecord(out as ColumnBatch), JSON.stringify(body)).toEqual({ sepal_length: [5.1], sepal_width: [3.5], petal_length: [1.4], petal_width: [0.2] });
    }
  });

  it('a plain list still maps onto a signature with a single column (MLflow _cast_schema_type)', async () => {
    const schema: Schema = { kind: 'columns', specs: [{ kind: 'column', name: 'x', type: 'double', required: true }] };
    const req = await parseScoringRequest(new TextEncoder().encode('{"inputs": [1, "2.5"]}'), 'application/json', schema);
    const out = enforceSchema(req.batch as Batch, schema) as ColumnBatch;
    expect(asRecord(out)).toEqual({ x: [1, 2.5] });
  });
});

describe('duplicate column names', () => {
  it('refuses a duplicated signature column with a 400 naming it', async () => {
    const e = await score('iris_sklearn', { dataframe_split: { columns: [...IRIS_COLUMNS, 'petal_width'], data: [[5.1, 3.5, 1.4, 0.2, 9]] } });
    expect(e).toBeInstanceOf(InputSchemaError);
    const err = e as InputSchemaError;
    expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE'); // HTTP 400, as MLflow's failure there
    expect(err.detail).toBe(
      "The input has 2 columns named 'petal_width'. The model signature reads this column, so it must appear only once: rename or drop the duplicates.",
    );
  });

  it('duplicates of a column the signature does not read are dropped with the other extras', async () => {
    const out = await score('iris_sklearn', { dataframe_split: { columns: [...IRIS_COLUMNS, 'id', 'id'], data: [[5.1, 3.5, 1.4, 0.2, 1, 2]] } });
    expect(asRecord(out as ColumnBatch)).toEqual({ sepal_length: [5.1], sepal_width: [3.5], petal_length: [1.4], petal_width: [0.2] });
  });

  it('numeric duplicates print as numbers', async () => {
    const schema: Schema = { kind: 'columns', specs: [{ kind: 'column', name: null, type: 'double', required: true }] };
    const req = await parseScoringRequest(
      new TextEncoder().encode('{"dataframe_split": {"columns": [1, 1], "data": [[1.5, 2.5]]}}'),
      'application/json',
      schema,
    );
    expect(() => enforceSchema(req.batch as Batch, schema)).toThrow('The input has 2 columns named 1. The model signature reads this column');
  });
});

describe('CSV to a tensor signature', () => {
  const csvError = async (schema: Schema): Promise<ScoringRequestError> => {
    try {
      await parseScoringRequest(new TextEncoder().encode('a,b\n1,2\n'), 'text/csv', schema);
    } catch (e) {
      if (e instanceof ScoringRequestError) return e;
      throw e;
    }
    throw new Error('expected the CSV request to be refused');
  };

  it("keeps MLflow's 400 and text, then says what to send (unnamed tensor)", async () => {
    const e = await csvError((await openModelDir(fixturePath('diabetes_tensor'))).mlmodel.signature!.inputs!);
    expect(e.httpStatus).toBe(400);
    expect(e.errorCode).toBe('BAD_REQUEST');
    expect(e.message).toBe(
      'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the ' +
        "`pandas.DataFrame.to_csv()` method. Error: 'TensorSpec only supports numpy types, use numpy_type() instead' " +
        'This model takes a tensor: send it as JSON, e.g. {"inputs": [[...], ...]} with float64 values of shape (-1, 10).',
    );
  });

  it('names each input of a named tensor signature', async () => {
    const e = await csvError({
      kind: 'tensors',
      specs: [
        { kind: 'tensor', name: 'image', dtype: 'uint8', shape: [-1, 28, 28] },
        { kind: 'tensor', name: 'scale', dtype: 'float32', shape: [-1] },
      ],
    });
    expect(e.message).toMatch(/'TensorSpec only supports numpy types, use numpy_type\(\) instead' This model takes tensors: send them as JSON, e\.g\. /);
    expect(e.message).toContain('{"inputs": {"image": [...], "scale": [...]}} ("image": uint8 (-1, 28, 28); "scale": float32 (-1,)).');
  });
});
