/**
 * Tiny ONNX graphs for tests, encoded by hand in the protobuf wire format (IR 8, opset 13): enough
 * for value infos with symbolic dims, nodes with int and ints attributes, and a model around them.
 */

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
export const intField = (no: number, v: number): number[] => [...varint(no * 8), ...varint(v)];
export const bytesField = (no: number, b: number[]): number[] => [...varint(no * 8 + 2), ...varint(b.length), ...b];
export const strField = (no: number, s: string): number[] => bytesField(no, [...Buffer.from(s, 'utf8')]);

/** ONNX TensorProto element types used by the tests. */
export const ELEM = { float: 1, int64: 7, string: 8 } as const;

/** A graph input or output: element type and dims (a string is a symbolic dim). */
export function valueInfo(name: string, elem: number, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => bytesField(1, typeof d === 'number' ? intField(1, d) : strField(2, d)));
  const tensorType = [...intField(1, elem), ...bytesField(2, shape)];
  return [...strField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

/** An attribute of a node: a non-negative int, or a list of them. */
export type Attribute = { readonly name: string; readonly int: number } | { readonly name: string; readonly ints: readonly number[] };

function attribute(a: Attribute): number[] {
  // AttributeProto: name = 1, i = 3, ints = 8, type = 20 (INT = 2, INTS = 7)
  if ('int' in a) return [...strField(1, a.name), ...intField(3, a.int), ...intField(20, 2)];
  return [...strField(1, a.name), ...a.ints.flatMap((v) => intField(8, v)), ...intField(20, 7)];
}

export function node(op: string, inputs: string[], outputs: string[], attributes: readonly Attribute[] = []): number[] {
  return [
    ...inputs.flatMap((i) => strField(1, i)),
    ...outputs.flatMap((o) => strField(2, o)),
    ...strField(3, `${op}_${outputs[0]}`),
    ...strField(4, op),
    ...attributes.flatMap((a) => bytesField(5, attribute(a))),
  ];
}

/** A model (IR 8, default domain opset 13) around a graph's nodes, inputs and outputs (each already encoded). */
export function onnxModel(name: string, nodes: number[][], inputs: number[][], outputs: number[][]): Uint8Array {
  const graph = [
    ...nodes.flatMap((n) => bytesField(1, n)),
    ...strField(2, name),
    ...inputs.flatMap((i) => bytesField(11, i)),
    ...outputs.flatMap((o) => bytesField(12, o)),
  ];
  const model = [
    ...intField(1, 8),
    ...strField(2, 'mlmodel-test'),
    ...strField(3, '0.1'),
    ...bytesField(7, graph),
    ...bytesField(8, [...strField(1, ''), ...intField(2, 13)]),
  ];
  return Uint8Array.from(model);
}

/** x: float[N, 2] → y = x − mean(x over the rows): a graph whose rows' answers depend on their neighbours. */
export function rowMixingModel(): Uint8Array {
  return onnxModel(
    'centre-rows',
    [
      node(
        'ReduceMean',
        ['x'],
        ['m'],
        [
          { name: 'axes', ints: [0] },
          { name: 'keepdims', int: 1 },
        ],
      ),
      node('Sub', ['x', 'm'], ['y']),
    ],
    [valueInfo('x', ELEM.float, ['N', 2])],
    [valueInfo('y', ELEM.float, ['N', 2])],
  );
}
