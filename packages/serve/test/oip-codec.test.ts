/**
 * The Open Inference Protocol codec as pure functions: datatype mapping, request decoding
 * (JSON, binary, BYTES, base64), model input shaping by signature, prediction → outputs and
 * response framing.
 */
import { describe, expect, it } from 'vitest';
import { BinaryArray, Utf8Array, floatToHalf, halfToFloat, parseSignature, type ColumnBatch, type ModelSignature, type TensorBatch } from '@mlmodel/format';
import {
  OipRequestError,
  binaryBlob,
  columnTypeDatatype,
  encodeInferResponse,
  modelMetadata,
  parseInferRequest,
  predictionOutputs,
  schemaTensors,
  toModelInput,
} from '../src/oip/index.js';
import { bytesFromBinary } from '../src/oip/tensor-data.js';

const NO_INPUTS = { modelInputs: [] };
const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

function sig(inputs: string, outputs: string | null = null, params: string | null = null): ModelSignature {
  return parseSignature({ inputs, ...(outputs ? { outputs } : {}), ...(params ? { params } : {}) });
}

describe('OIP codec: datatypes and metadata', () => {
  it('maps MLflow column types as MLServer does', () => {
    const table = {
      string: 'BYTES',
      binary: 'BYTES',
      datetime: 'BYTES',
      integer: 'INT32',
      long: 'INT64',
      float: 'FP32',
      double: 'FP64',
      boolean: 'BOOL',
    } as const;
    for (const [t, dt] of Object.entries(table)) expect(columnTypeDatatype(t as keyof typeof table).datatype).toBe(dt);
    expect(columnTypeDatatype('binary').contentType).toBe('base64');
    expect(columnTypeDatatype({ type: 'array', items: 'long' })).toEqual({ datatype: 'INT64', contentType: 'np', innerShape: [-1] });
  });

  it('names unnamed inputs and outputs input-{i} / output-{i}, maps tensor dtypes, lists versions only when given', () => {
    const s = sig(
      '[{"type": "tensor", "tensor-spec": {"dtype": "uint8", "shape": [-1, 28, 28]}}]',
      '[{"type": "tensor", "tensor-spec": {"dtype": "str", "shape": [-1]}}]',
    );
    expect(modelMetadata('m', null, 'tfjs', s)).toEqual({
      name: 'm',
      platform: 'mlflow_tfjs',
      inputs: [{ name: 'input-0', datatype: 'UINT8', shape: [-1, 28, 28], parameters: { content_type: 'np' } }],
      outputs: [{ name: 'output-0', datatype: 'BYTES', shape: [-1], parameters: { content_type: 'str' } }],
    });
    expect(modelMetadata('m', '2', 'onnx', null)).toEqual({ name: 'm', versions: ['2'], platform: 'onnx_onnxv1', inputs: [], outputs: [] });
  });
});

describe('OIP codec: requests', () => {
  it('decodes every fixed-size datatype from JSON, coercing only lossless values', () => {
    const req = parseInferRequest(
      json({
        inputs: [
          { name: 'b', datatype: 'BOOL', shape: [3], data: [true, false, 1] },
          { name: 'u', datatype: 'UINT16', shape: [2], data: [0, 65535] },
          { name: 'i', datatype: 'INT64', shape: [1, 2], data: [[-5, 2 ** 52]] },
          { name: 'h', datatype: 'FP16', shape: [2], data: [1.5, -2] },
          { name: 'f', datatype: 'FP32', shape: [2], data: [1, 0.1] },
        ],
      }),
      undefined,
      NO_INPUTS,
    );
    const [b, u, i, h, f] = req.inputs.map((x) => x.values);
    expect(Array.from(b as Uint8Array)).toEqual([1, 0, 1]);
    expect(Array.from(u as Uint16Array)).toEqual([0, 65535]);
    expect(Array.from(i as BigInt64Array)).toEqual([-5n, 2n ** 52n]);
    expect(Array.from(h as Uint16Array, halfToFloat)).toEqual([1.5, -2]);
    expect(Array.from(f as Float32Array)).toEqual([1, Math.fround(0.1)]);
    expect(req.outputs).toBeNull();
    expect(req.binaryOutput).toBe(false);
  });

  it('keeps model params and drops the protocol ones', () => {
    const req = parseInferRequest(
      json({ parameters: { binary_data_output: true, content_type: 'np', threshold: 0.5 }, inputs: [{ name: 'a', datatype: 'FP64', shape: [1], data: [1] }] }),
      undefined,
      NO_INPUTS,
    );
    expect(req.parameters).toEqual({ threshold: 0.5 });
    expect(req.binaryOutput).toBe(true);
  });

  it('decodes BYTES as text, base64 (by content type, given or implied by the model) and length-prefixed binary', () => {
    const text = parseInferRequest(json({ inputs: [{ name: 's', datatype: 'BYTES', shape: [2], data: ['héllo', ''] }] }), undefined, NO_INPUTS);
    expect(new Utf8Array((text.inputs[0]!.values as BinaryArray).offsets, (text.inputs[0]!.values as BinaryArray).bytes).toArray()).toEqual(['héllo', '']);
    const b64 = parseInferRequest(
      json({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: ['AAH/'], parameters: { content_type: 'base64' } }] }),
      undefined,
      NO_INPUTS,
    );
    expect(Array.from((b64.inputs[0]!.values as BinaryArray).get(0))).toEqual([0, 1, 255]);
    const implied = parseInferRequest(json({ inputs: [{ name: 'img', datatype: 'BYTES', shape: [1], data: ['AAH/'] }] }), undefined, {
      modelInputs: schemaTensors(sig('[{"type": "binary", "name": "img", "required": true}]').inputs, 'input'),
    });
    expect(Array.from((implied.inputs[0]!.values as BinaryArray).get(0))).toEqual([0, 1, 255]);
    expect(() =>
      parseInferRequest(
        json({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: ['not base64!'], parameters: { content_type: 'base64' } }] }),
        undefined,
        NO_INPUTS,
      ),
    ).toThrow(/not valid base64/);

    const values = BinaryArray.fromBuffers([new Uint8Array([1, 2, 3]), new Uint8Array(0), Buffer.from('xy')]);
    const blob = binaryBlob({ name: 'x', datatype: 'BYTES', shape: [3], values, base64: false });
    expect(blob.byteLength).toBe(3 * 4 + 5);
    expect(
      bytesFromBinary('x', blob, 3)
        .toArray()
        .map((a) => Array.from(a)),
    ).toEqual([[1, 2, 3], [], [120, 121]]);
    expect(() => bytesFromBinary('x', blob, 4)).toThrow(/ends after 3 of 4 BYTES elements/);
    expect(() => bytesFromBinary('x', blob, 2)).toThrow(/take 11/);
  });

  it('splits a binary body by binary_data_size, in input order, mixing JSON and binary inputs', () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'a', datatype: 'INT32', shape: [2], parameters: { binary_data_size: 8 } },
          { name: 'j', datatype: 'FP64', shape: [1], data: [2.5] },
          { name: 'b', datatype: 'BOOL', shape: [3], parameters: { binary_data_size: 3 } },
        ],
      }),
    );
    const body = Buffer.concat([header, Buffer.from(new Int32Array([7, -1]).buffer), Buffer.from([0, 1, 9])]);
    // an odd offset: the blobs are copied into aligned storage
    const req = parseInferRequest(body, String(header.byteLength), NO_INPUTS);
    expect(Array.from(req.inputs[0]!.values as Int32Array)).toEqual([7, -1]);
    expect(Array.from(req.inputs[1]!.values as Float64Array)).toEqual([2.5]);
    expect(Array.from(req.inputs[2]!.values as Uint8Array)).toEqual([0, 1, 1]);
  });

  it('takes a raw BYTES body as one element, and sizes the variable dimension of a raw tensor body', () => {
    const bytesModel = { modelInputs: schemaTensors(sig('[{"type": "tensor", "tensor-spec": {"dtype": "object", "shape": [-1]}}]').inputs, 'input') };
    const raw = parseInferRequest(Buffer.from('raw image bytes'), '0', bytesModel);
    expect(raw.inputs[0]).toMatchObject({ name: 'input-0', datatype: 'BYTES', shape: [1] });
    expect(raw.binaryOutput).toBe(true);
    const fp = { modelInputs: schemaTensors(sig('[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]').inputs, 'input') };
    expect(parseInferRequest(Buffer.alloc(48), '0', fp).inputs[0]!.shape).toEqual([3, 2]);
    const twoVar = { modelInputs: schemaTensors(sig('[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, -1]}}]').inputs, 'input') };
    expect(() => parseInferRequest(Buffer.alloc(48), '0', twoVar)).toThrow(/at most one variable dimension/);
  });

  it('throws only OipRequestErrors (400) for malformed requests', () => {
    const bodies = [
      '',
      'null',
      '"x"',
      '{"inputs": [null]}',
      '{"inputs": [{"name": "a", "datatype": "BF16", "shape": [1], "data": [1]}]}',
      '{"inputs": [{"name": "a", "datatype": "FP32", "shape": [1], "data": [[1], 2]}]}',
    ];
    for (const b of bodies) {
      let caught: unknown;
      try {
        parseInferRequest(Buffer.from(b), undefined, NO_INPUTS);
      } catch (e) {
        caught = e;
      }
      expect(caught, b).toBeInstanceOf(OipRequestError);
      expect((caught as OipRequestError).httpStatus).toBe(400);
    }
  });
});

describe('OIP codec: model input by signature', () => {
  const decode = (inputs: unknown[], modelSig: ModelSignature | null) =>
    toModelInput(parseInferRequest(json({ inputs }), undefined, { modelInputs: schemaTensors(modelSig?.inputs ?? null, 'input') }).inputs, modelSig);

  it('builds a column batch for ColSpecs: plain columns, and one list per row for wider inputs', () => {
    const s = sig('[{"type": "string", "name": "plan", "required": true}, {"type": "array", "items": {"type": "long"}, "name": "hist", "required": true}]');
    const input = decode(
      [
        { name: 'plan', datatype: 'BYTES', shape: [2, 1], data: ['pro', 'plus'] },
        { name: 'hist', datatype: 'INT64', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
      ],
      s,
    ) as ColumnBatch;
    expect(input.kind).toBe('columns');
    expect(input.numRows).toBe(2);
    expect(input.columns[0]).toMatchObject({ name: 'plan', dtype: 'str' });
    expect((input.columns[0]!.values as Utf8Array).toArray()).toEqual(['pro', 'plus']);
    expect(input.columns[1]).toMatchObject({
      name: 'hist',
      dtype: 'object',
      values: [
        [1n, 2n, 3n],
        [4n, 5n, 6n],
      ],
    });
  });

  it('builds tensors: unnamed for an unnamed spec, named otherwise, strings as the spec says', () => {
    const unnamedSig = sig('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]');
    const unnamed = decode([{ name: 'input-0', datatype: 'FP32', shape: [1, 2], data: [1, 2] }], unnamedSig) as TensorBatch;
    expect(unnamed.tensors[0]).toMatchObject({ name: null, dtype: 'float32', shape: [1, 2] });
    // only the names the metadata advertises
    expect(() => decode([{ name: 'whatever', datatype: 'FP32', shape: [1, 2], data: [1, 2] }], unnamedSig)).toThrow(
      /^Unknown input 'whatever'; this model's inputs are: 'input-0'$/,
    );
    const named = decode(
      [
        { name: 'text', datatype: 'BYTES', shape: [1], data: ['a'] },
        { name: 'when', datatype: 'BYTES', shape: [1], data: ['2024-01-02T03:04:05'] },
      ],
      sig(
        '[{"type": "tensor", "name": "text", "tensor-spec": {"dtype": "str", "shape": [-1]}}, {"type": "tensor", "name": "when", "tensor-spec": {"dtype": "datetime64[ns]", "shape": [-1]}}]',
      ),
    ) as TensorBatch;
    expect(named.tensors.map((t) => [t.name, t.dtype])).toEqual([
      ['text', 'str'],
      ['when', 'datetime64[ns]'],
    ]);
    expect((named.tensors[1]!.values as BigInt64Array)[0]).toBe(BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1_000_000n);
    // without a signature: input-0 alone is MLflow's unnamed array, other names a dict of arrays
    expect((decode([{ name: 'input-0', datatype: 'INT8', shape: [1], data: [1] }], null) as TensorBatch).tensors[0]!.name).toBeNull();
    expect((decode([{ name: 'x', datatype: 'INT8', shape: [1], data: [1] }], null) as TensorBatch).tensors[0]!.name).toBe('x');
  });
});

describe('OIP codec: responses', () => {
  it('turns columns, JSON values and tensors into outputs', () => {
    const cols = predictionOutputs(
      {
        kind: 'columns',
        numRows: 2,
        columns: [
          { name: 'label', dtype: 'str', values: Utf8Array.fromStrings(['a', 'b']) },
          { name: 'score', dtype: 'float64', values: new Float64Array([0.5, NaN]) },
          {
            name: 'vec',
            dtype: 'object',
            values: [
              [1, 2],
              [3, 4],
            ],
          },
          { name: 'misc', dtype: 'object', values: [{ k: 1 }, 'x'] },
        ],
      },
      null,
    );
    expect(cols.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['label', 'BYTES', [2]],
      ['score', 'FP64', [2]],
      ['vec', 'INT64', [2, 2]],
      ['misc', 'BYTES', [2]],
    ]);
    const body = JSON.parse(
      encodeInferResponse(cols, { modelName: 'm', modelVersion: null, id: '1', requested: null, binaryDefault: false }).body.toString().replace('NaN', 'null'),
    ) as {
      outputs: { data: unknown[] }[];
    };
    expect(body.outputs.map((o) => o.data)).toEqual([
      ['a', 'b'],
      [0.5, null],
      [1, 2, 3, 4],
      ['{"k":1}', 'x'],
    ]);

    const fromJson = predictionOutputs({ kind: 'json', value: { scores: [[0.1, 0.2]], names: ['x'] } }, null);
    expect(fromJson.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['scores', 'FP64', [1, 2]],
      ['names', 'BYTES', [1]],
    ]);
    expect(predictionOutputs({ kind: 'json', value: [true, false] }, null).map((o) => [o.name, o.datatype])).toEqual([['output-0', 'BOOL']]);
  });

  it('writes binary outputs after the JSON header, in output order, with their sizes', () => {
    const outputs = predictionOutputs(
      {
        kind: 'tensors',
        tensors: [
          { name: 'h', dtype: 'float16', shape: [2], values: new Uint16Array([floatToHalf(1), floatToHalf(-0.5)]) },
          { name: 'b', dtype: 'bytes', shape: [1], values: BinaryArray.fromBuffers([new Uint8Array([255])]) },
        ],
      },
      null,
    );
    const enc = encodeInferResponse(outputs, {
      modelName: 'm',
      modelVersion: '1',
      id: 'q',
      requested: [
        { name: 'b', binary: null },
        { name: 'h', binary: false },
      ],
      binaryDefault: true,
    });
    const head = JSON.parse(enc.body.subarray(0, enc.headerLength!).toString()) as Record<string, unknown>;
    expect(head).toEqual({
      model_name: 'm',
      model_version: '1',
      id: 'q',
      outputs: [
        { name: 'b', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 5 } },
        { name: 'h', datatype: 'FP16', shape: [2], data: [1, -0.5] },
      ],
    });
    expect(Array.from(enc.body.subarray(enc.headerLength!))).toEqual([1, 0, 0, 0, 255]);
  });

  it('rounds FP16 to nearest even and keeps specials', () => {
    for (const v of [0, 1, -2, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity, -Infinity]) expect(halfToFloat(floatToHalf(v))).toBe(v);
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1);
    expect(halfToFloat(floatToHalf(70000))).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });
});
