// Wraps an inner ONNX classifier (an MLflow model directory saved as the 'inner' artifact) and
// post-processes its output: label index -> class name, plus the winning probability.
export async function load(context) {
  const classifier = await context.loadModel('inner');
  const names = context.modelConfig.class_names;
  const { columnFromValues, columnBatch } = context.batch;

  return {
    async predict(input, params) {
      const out = await classifier.predict(input, params);
      const label = out.tensors.find((t) => t.name === 'label');
      const probs = out.tensors.find((t) => t.name === 'probabilities');
      const n = label.shape[0];
      const k = probs.shape[1];
      const classes = [];
      const confidence = [];
      for (let i = 0; i < n; i++) {
        const l = Number(label.values[i]);
        classes.push(names[l]);
        confidence.push(probs.values[i * k + l]);
      }
      return columnBatch([columnFromValues('class', classes, 'str'), columnFromValues('confidence', confidence, 'float64')]);
    },
  };
}
