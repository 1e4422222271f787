/** The image entrypoint's command line from the container's arguments and environment. */
import { describe, expect, it } from 'vitest';
import { ContainerUsageError, containerCommand, containerPort, drainTimeoutMs, serveArgs } from '../src/container/serve-args.js';

const DEFAULTS = ['--model', '/opt/ml/model', '--host', '0.0.0.0', '--port', '8080', '--env-manager', 'local'];

describe('containerCommand', () => {
  it('serves /opt/ml/model on 0.0.0.0:8080 with no arguments, and with `serve` (SageMaker)', () => {
    expect(containerCommand([], {})).toEqual(['serve', ...DEFAULTS]);
    expect(containerCommand(['serve'], {})).toEqual(['serve', ...DEFAULTS]);
  });

  it('names the model from $MLMODEL_MODEL_NAME (set at build time)', () => {
    expect(containerCommand(['serve'], { MLMODEL_MODEL_NAME: 'iris_onnx' }).slice(0, 3)).toEqual(['serve', '--model', 'iris_onnx=/opt/ml/model']);
  });

  it('honours $SAGEMAKER_BIND_TO_PORT first, then $AIP_HTTP_PORT, then $MLMODEL_PORT', () => {
    expect(containerPort({ SAGEMAKER_BIND_TO_PORT: '9001', AIP_HTTP_PORT: '9002', MLMODEL_PORT: '9003' })).toBe(9001);
    expect(containerPort({ AIP_HTTP_PORT: '9002', MLMODEL_PORT: '9003' })).toBe(9002);
    expect(containerPort({ MLMODEL_PORT: '9003' })).toBe(9003);
    expect(containerPort({ SAGEMAKER_BIND_TO_PORT: '  ' })).toBe(8080);
    expect(containerCommand(['serve'], { SAGEMAKER_BIND_TO_PORT: '9001' })).toContain('9001');
  });

  it('maps the environment to serve flags; a flag on the command line wins', () => {
    const env = {
      MLMODEL_WORKERS: '3',
      SAGEMAKER_MODEL_SERVER_TIMEOUT: '20',
      MLMODEL_MAX_BATCH_SIZE: '64',
      MLMODEL_MAX_BATCH_DELAY_MS: '0',
      MLMODEL_BODY_LIMIT_MB: '6',
      MLMODEL_PYTHON_WORKERS: '2',
      MLMODEL_CORS: 'https://a.example, https://b.example',
      MLMODEL_FLAVOR: 'python_function',
    };
    expect(serveArgs([], env)).toEqual([
      'serve',
      ...DEFAULTS,
      '--workers',
      '3',
      '--timeout',
      '20',
      '--max-batch-size',
      '64',
      '--max-batch-delay-ms',
      '0',
      '--body-limit-mb',
      '6',
      '--python-workers',
      '2',
      '--cors',
      'https://a.example',
      '--cors',
      'https://b.example',
      '--flavor',
      'python_function',
    ]);
    const given = serveArgs(['-w', '1', '--port=7000', '-m', '/models/x', '--timeout', '5'], env);
    expect(given.filter((a) => a === '--workers' || a === '-w')).toEqual(['-w']);
    expect(given).not.toContain('/opt/ml/model');
    expect(given).not.toContain('8080');
    expect(given.filter((a) => a === '--timeout')).toHaveLength(1);
  });

  it('SageMaker names for workers and timeout count when ours are not set', () => {
    expect(serveArgs([], { SAGEMAKER_MODEL_SERVER_WORKERS: '4' }).slice(-2)).toEqual(['--workers', '4']);
    expect(serveArgs([], { MLMODEL_WORKERS: '2', SAGEMAKER_MODEL_SERVER_WORKERS: '4' }).slice(-2)).toEqual(['--workers', '2']);
  });

  it('refuses a variable that is not a number, naming the variable', () => {
    expect(() => serveArgs([], { MLMODEL_WORKERS: 'many' })).toThrow(new ContainerUsageError('$MLMODEL_WORKERS must be an integer ≥ 1, got "many"'));
    expect(() => serveArgs([], { MLMODEL_MAX_QUEUE_SIZE: '0' })).toThrow(/\$MLMODEL_MAX_QUEUE_SIZE must be an integer ≥ 1/);
    expect(() => containerPort({ SAGEMAKER_BIND_TO_PORT: '80a' })).toThrow(/\$SAGEMAKER_BIND_TO_PORT must be an integer/);
  });

  it('flags alone are serve flags; train is refused; other commands pass through', () => {
    expect(containerCommand(['--workers', '2'], {})).toEqual(['serve', '--workers', '2', ...DEFAULTS]);
    expect(() => containerCommand(['train'], {})).toThrow(ContainerUsageError);
    expect(containerCommand(['info', '/opt/ml/model'], { MLMODEL_WORKERS: '2' })).toEqual(['info', '/opt/ml/model']);
    expect(containerCommand(['--version'], {})).toEqual(['--version']);
  });

  it('keeps --env-manager when given (the image never makes environments otherwise)', () => {
    expect(serveArgs(['--env-manager', 'virtualenv'], {}).filter((a) => a === 'local')).toEqual([]);
    expect(serveArgs(['--no-conda'], {})).not.toContain('--env-manager');
  });

  it('drain deadline: $MLMODEL_DRAIN_TIMEOUT seconds, default 25 (inside the platforms’ 30 s)', () => {
    expect(drainTimeoutMs({})).toBe(25_000);
    expect(drainTimeoutMs({ MLMODEL_DRAIN_TIMEOUT: '10' })).toBe(10_000);
    expect(() => drainTimeoutMs({ MLMODEL_DRAIN_TIMEOUT: '0' })).toThrow(ContainerUsageError);
  });
});
