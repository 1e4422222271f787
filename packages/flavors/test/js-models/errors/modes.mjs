// predict misbehaves on request (params.mode); close() appends a line to modelConfig.close_log.
import { appendFile } from 'node:fs/promises';

export async function load(context) {
  let calls = 0;
  return {
    predict(input, params) {
      calls += 1;
      switch (params.mode) {
        case 'throw':
          throw new RangeError(`threshold must be in [0, 1], got ${params.threshold}`);
        case 'throw-string':
          throw 'plain string failure';
        case 'bad-batch':
          return { kind: 'columns', numRows: 3, columns: [{ name: 'score', dtype: 'float64', values: new Float64Array(2) }] };
        case 'wrong-storage':
          return { kind: 'tensors', tensors: [{ name: null, dtype: 'float32', shape: [2], values: [1, 2] }] };
        case 'typed-array':
          return new Float32Array(2);
        case 'nothing':
          return undefined;
        case 'echo':
          return input;
        default:
          return { calls, input_kind: input.kind };
      }
    },
    async close() {
      if (context.modelConfig.close_log) await appendFile(context.modelConfig.close_log, 'closed\n');
    },
  };
}
