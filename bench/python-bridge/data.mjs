// The deterministic inputs of the python-bridge benchmarks, per fixture; inprocess.py builds the
// same values as a pandas DataFrame.
const PLANS = ['basic', 'plus', 'pro'];

/** `{ name, predictFn, batch(n) }` for each benchmarked fixture, given @mlmodel/format's exports. */
export function benchModels({ column, columnBatch, Utf8Array }) {
  const floats = (n, f) => Float64Array.from({ length: n }, (_, i) => f(i));
  return [
    {
      name: 'iris_sklearn',
      note: 'LogisticRegression on 4 float64 columns: almost no compute, the worst case for relative overhead',
      batch: (n) =>
        columnBatch(
          ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, j) =>
            column(
              name,
              'float64',
              floats(n, (i) => 4 + ((i * 7 + j * 13) % 40) / 10),
            ),
          ),
          n,
        ),
    },
    {
      name: 'churn_pipeline',
      note: 'OneHotEncoder + StandardScaler + 20-tree RandomForest predict_proba on string, long and double columns',
      batch: (n) =>
        columnBatch(
          [
            column('plan', 'str', Utf8Array.fromStrings(Array.from({ length: n }, (_, i) => PLANS[i % 3]))),
            column(
              'tenure_months',
              'int64',
              BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7) % 72)),
            ),
            column(
              'monthly_charges',
              'float64',
              floats(n, (i) => 20 + ((i * 13) % 800) / 10),
            ),
          ],
          n,
        ),
    },
  ];
}
