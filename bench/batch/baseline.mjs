// The baseline of bench/batch: a plain single-threaded loop with no mlmodel code. It reads a
// Parquet file with parquet-wasm (streaming record batches from a lazy file blob), calls
// onnxruntime-node directly (one intra-op thread), and writes Parquet with parquet-wasm's
// streaming writer: the input columns plus `probabilities` (FixedSizeList<float32>[3]) and `label`,
// the same table `mlmodel batch` writes for iris_onnx.
//
//   node bench/batch/baseline.mjs MODEL.onnx INPUT.parquet OUTPUT.parquet
import { createWriteStream, openAsBlob } from 'node:fs';
import { Writable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import * as arrow from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import * as pw from 'parquet-wasm';

const [modelPath, input, output] = process.argv.slice(2);
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
const file = await pw.ParquetFile.fromFile(await openAsBlob(input));
const batches = await file.stream({ batchSize: 65_536 });

async function* scored() {
  for await (const rb of batches) {
    const table = arrow.tableFromIPC(rb.intoIPCStream());
    const n = table.numRows;
    const columns = FEATURES.map((c) => table.getChild(c).toArray());
    const features = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) features[i * 4 + j] = columns[j][i];
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', features, [n, 4]) });
    const probs = arrow.makeData({
      type: new arrow.FixedSizeList(3, new arrow.Field('item', new arrow.Float32(), true)),
      length: n,
      nullCount: 0,
      child: arrow.makeData({ type: new arrow.Float32(), length: n * 3, data: out.probabilities.data }),
    });
    const result = new arrow.Table({
      ...Object.fromEntries(table.schema.fields.map((f) => [f.name, table.getChild(f.name)])),
      probabilities: arrow.makeVector(probs),
      label: arrow.makeVector(out.label.data),
    });
    const wasm = pw.Table.fromIPCStream(arrow.tableToIPC(result, 'stream'));
    yield* wasm.recordBatches();
  }
}

const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setMaxRowGroupSize(131_072).build();
const bytes = await pw.transformParquetStream(ReadableStream.from(scored()), props);
await bytes.pipeTo(Writable.toWeb(createWriteStream(output)));
await session.release();
