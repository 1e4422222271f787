/**
 * `defaultIntraOpNumThreads` (set by the server when it runs several processes) applies only when
 * neither the user's `intraOpNumThreads` nor the MLmodel's `intra_op_num_threads` says.
 */
import { describe, expect, it } from 'vitest';
import { buildSessionOptions, parseMlflowSessionOptions, readOverrides } from '../src/onnx/session-options.js';

describe('onnx intra-op threads default', () => {
  const cpu = ['cpu'];

  it('fills the gap, and only the gap', () => {
    const dflt = readOverrides({ defaultIntraOpNumThreads: 1 });
    expect(buildSessionOptions({}, dflt, cpu).intraOpNumThreads).toBe(1);
    expect(buildSessionOptions(parseMlflowSessionOptions({ intra_op_num_threads: 4 }), dflt, cpu).intraOpNumThreads).toBe(4);
    // 0 in the MLmodel is onnxruntime's own default, chosen by the model's author: kept
    expect(buildSessionOptions(parseMlflowSessionOptions({ intra_op_num_threads: 0 }), dflt, cpu).intraOpNumThreads).toBe(0);
    expect(buildSessionOptions({}, readOverrides({ defaultIntraOpNumThreads: 1, intraOpNumThreads: 3 }), cpu).intraOpNumThreads).toBe(3);
    expect(buildSessionOptions({}, readOverrides({}), cpu)).not.toHaveProperty('intraOpNumThreads');
  });

  it('is checked like the other thread counts', () => {
    expect(() => readOverrides({ defaultIntraOpNumThreads: -1 })).toThrow(/defaultIntraOpNumThreads: expected a non-negative integer/);
    expect(() => readOverrides({ defaultIntraOpNumThreads: 'two' })).toThrow(/defaultIntraOpNumThreads/);
  });
});
