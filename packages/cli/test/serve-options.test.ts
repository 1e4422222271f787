import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { flavorOptions } from '../src/args.js';
import { modelSpecs, parseModelSpec, resolveAddress } from '../src/commands/serve.js';

describe('mlmodel serve options', () => {
  it('parses model specs: path, name=path, name:version=path', () => {
    expect(parseModelSpec('/models/iris_onnx')).toEqual({ name: 'iris_onnx', path: '/models/iris_onnx' });
    expect(parseModelSpec('./a/b/MLmodel')).toEqual({ name: 'b', path: './a/b/MLmodel' });
    expect(parseModelSpec('churn=../m')).toEqual({ name: 'churn', path: '../m' });
    expect(parseModelSpec('churn:3=/m')).toEqual({ name: 'churn', version: '3', path: '/m' });
  });

  it('applies batching per model (N for all, name=N for one) and refuses unknown names', () => {
    const specs = modelSpecs({ model: ['a=/x', 'b=/y'], maxBatchSize: ['8', 'b=64'], maxBatchDelayMs: ['a=0'], pythonWorkers: '2' });
    expect(specs[0]!.batching).toEqual({ maxBatchSize: 8, maxBatchDelayMs: 0 });
    expect(specs[1]!.batching).toEqual({ maxBatchSize: 64 });
    // no size: the server decides per model (automatic batching); 1: off, for all or for one model
    expect(modelSpecs({ model: ['a=/x'] })[0]!.batching).toEqual({});
    expect(modelSpecs({ model: ['a=/x'], maxQueueSize: ['16'] })[0]!.batching).toEqual({ maxQueueSize: 16 });
    expect(modelSpecs({ model: ['a=/x'], maxBatchSize: ['1'] })[0]!.batching).toBeNull();
    expect(modelSpecs({ model: ['a=/x', 'b=/y'], maxBatchSize: ['b=1'] }).map((m) => m.batching)).toEqual([{}, null]);
    expect(() => modelSpecs({ model: ['a=/x'], maxBatchSize: ['zz=4'] })).toThrow(InvalidArgumentError);
    expect(() => modelSpecs({ model: ['a=/x'], maxBatchSize: ['0'] })).toThrow(/--max-batch-size must be an integer ≥ 1/);
  });

  it('passes --flavor-option values to the flavors, as JSON when they parse', () => {
    expect(flavorOptions(['intraOpNumThreads=1', 'executionProviders=["cpu"]', 'name=plain text'])).toEqual({
      intraOpNumThreads: 1,
      executionProviders: ['cpu'],
      name: 'plain text',
    });
    expect(modelSpecs({ model: ['/m'], flavorOption: ['intraOpNumThreads=2'], python: '/usr/bin/python3' })[0]!.options).toEqual({
      intraOpNumThreads: 2,
      python: '/usr/bin/python3',
    });
    expect(() => flavorOptions(['novalue'])).toThrow(/--flavor-option must be key=value/);
  });

  it('listens where SageMaker, the environment or the container says', () => {
    expect(resolveAddress({}, {}, false)).toEqual({ host: '127.0.0.1', port: 5000 });
    expect(resolveAddress({}, {}, true)).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(resolveAddress({}, { SAGEMAKER_BIND_TO_PORT: '9090', MLMODEL_PORT: '1' }, true)).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(resolveAddress({}, { MLFLOW_HOST: '10.0.0.1', MLFLOW_PORT: '6000' }, false)).toEqual({ host: '10.0.0.1', port: 6000 });
    expect(resolveAddress({ host: '::1', port: '7000' }, { SAGEMAKER_BIND_TO_PORT: '9090' }, true)).toEqual({ host: '::1', port: 7000 });
    expect(() => resolveAddress({ port: 'http' }, {}, false)).toThrow(/--port must be an integer/);
  });
});
