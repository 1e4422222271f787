/**
 * The defaults `mlmodel serve` picks without --workers: processes from the models' flavors and the
 * machine's cores and memory, and onnx intra-op threads from the process count.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createRegistry, type Flavor } from '@mlmodel/flavors';
import { cgroupCpuLimit, inspectModel, planFromFacts, planProcesses, PROCESS_BASE_BYTES, type MachineFacts, type ModelFacts } from '../src/process-defaults.js';
import type { ServedModelConfig } from '../src/models/model-repository.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const GIB = 1024 ** 3;
const BIG: MachineFacts = { cpus: 8, memoryBytes: 64 * GIB };
const onnx: ModelFacts = { inProcess: true, flavor: 'onnx', bytes: 1000 };
const python: ModelFacts = { inProcess: false, flavor: 'python_function', bytes: 1000 };
const model = (name: string, options?: Record<string, unknown>): ServedModelConfig => ({ name, path: `/m/${name}`, ...(options ? { options } : {}) });

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('planFromFacts', () => {
  it('runs one process per core when every model predicts in process, each onnx session on one thread', () => {
    const plan = planFromFacts([model('a', { python: '/usr/bin/python3' }), model('b')], [onnx, onnx], BIG);
    expect(plan.workers).toBe(8);
    expect(plan.reason).toMatch(/one per core/);
    expect(plan.models.map((m) => m.options)).toEqual([{ python: '/usr/bin/python3', defaultIntraOpNumThreads: 1 }, { defaultIntraOpNumThreads: 1 }]);
  });

  it('runs one process, with onnxruntime’s own threading, when a model predicts outside the process', () => {
    const plan = planFromFacts([model('a'), model('b')], [onnx, python], BIG);
    expect(plan).toMatchObject({ workers: 1, reason: expect.stringMatching(/python_function/) as unknown });
    expect(plan.models[0]!.options).toBeUndefined();
    // a model that could not be inspected counts as outside
    expect(planFromFacts([model('a')], [{ inProcess: false, flavor: null, bytes: 0 }], BIG).workers).toBe(1);
  });

  it('runs as many processes as fit in half the memory', () => {
    const bytes = 2 * GIB;
    const perProcess = PROCESS_BASE_BYTES + 2 * bytes;
    const plan = planFromFacts([model('a')], [{ ...onnx, bytes }], { cpus: 8, memoryBytes: 3 * perProcess * 2 + 1 });
    expect(plan.workers).toBe(3);
    expect(plan.reason).toMatch(/memory/);
    // cores / processes threads each
    expect(plan.models[0]!.options).toEqual({ defaultIntraOpNumThreads: 2 });
    expect(planFromFacts([model('a')], [{ ...onnx, bytes: 64 * GIB }], BIG).workers).toBe(1);
  });

  it('keeps the user’s process count, and still shares the cores between its processes', () => {
    expect(planFromFacts([model('a')], [python], BIG, 4)).toMatchObject({
      workers: 4,
      reason: 'as given',
      models: [{ options: { defaultIntraOpNumThreads: 2 } }],
    });
    expect(planFromFacts([model('a')], [onnx], BIG, 1)).toMatchObject({ workers: 1, models: [{ name: 'a' }] });
    expect(planFromFacts([model('a')], [onnx], BIG, 1).models[0]!.options).toBeUndefined();
    expect(planFromFacts([model('a')], [onnx], { cpus: 1, memoryBytes: 64 * GIB }).workers).toBe(1);
  });
});

describe('the machine and the models', () => {
  it('reads whole cores from a cgroup CPU quota (v2, then v1), none for "max" or -1', () => {
    const files = (m: Record<string, string>) => (p: string) => m[p] ?? null;
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '250000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' }))).toBe(1);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeNull();
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '400000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(4);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBeNull();
    expect(cgroupCpuLimit(files({}))).toBeNull();
  });

  it('asks the registry which flavor loads each model (onnx before python_function; --flavor; plugins)', async () => {
    const registry = createRegistry();
    expect(await inspectModel({ name: 'a', path: join(FIXTURES, 'iris_onnx') }, registry)).toEqual({ inProcess: true, flavor: 'onnx', bytes: 877 });
    expect(await inspectModel({ name: 'a', path: join(FIXTURES, 'iris_onnx'), flavor: 'python_function' }, registry)).toMatchObject({
      inProcess: false,
      flavor: 'python_function',
    });
    expect(await inspectModel({ name: 'a', path: join(FIXTURES, 'iris_sklearn') }, registry)).toMatchObject({ inProcess: false, flavor: 'python_function' });
    expect(await inspectModel({ name: 'a', path: join(FIXTURES, 'does-not-exist') }, registry)).toEqual({ inProcess: false, flavor: null, bytes: 0 });
    const plugin: Flavor<unknown> = { name: 'mine', canLoad: () => true, load: () => Promise.reject(new Error('not here')) };
    registry.register(plugin);
    expect(await inspectModel({ name: 'a', path: join(FIXTURES, 'iris_sklearn'), flavor: 'mine' }, registry)).toMatchObject({
      inProcess: false,
      flavor: 'mine',
    });
  });

  it('sizes a model without model_size_bytes from its files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-defaults-'));
    dirs.push(dir);
    await writeFile(join(dir, 'MLmodel'), 'flavors:\n  onnx:\n    data: model.onnx\n');
    await writeFile(join(dir, 'model.onnx'), Buffer.alloc(5000));
    const facts = await inspectModel({ name: 'a', path: dir }, createRegistry());
    expect(facts.inProcess).toBe(true);
    expect(facts.bytes).toBeGreaterThanOrEqual(5000);
  });

  it('plans from the models on disk; an explicit count skips the inspection', async () => {
    const machine: MachineFacts = { cpus: 2, memoryBytes: 8 * GIB };
    const iris = { name: 'iris', path: join(FIXTURES, 'iris_onnx') };
    expect(await planProcesses([iris], { machine })).toMatchObject({ workers: 2, models: [{ options: { defaultIntraOpNumThreads: 1 } }] });
    expect((await planProcesses([iris, { name: 'sk', path: join(FIXTURES, 'iris_sklearn') }], { machine })).workers).toBe(1);
    expect((await planProcesses([{ name: 'x', path: '/no/such/model' }], { machine, workers: 3 })).workers).toBe(3);
    // a plugin that cannot be imported: nothing can be said, one process (the server reports the plugin)
    expect((await planProcesses([iris], { machine, plugins: ['/no/such/plugin.mjs'] })).workers).toBe(1);
    // plugins are asked first: one that predicts in process turns a Python model's default into one per core
    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-plugin-'));
    dirs.push(dir);
    const plugin = join(dir, 'plugin.mjs');
    await writeFile(
      plugin,
      "export default { name: 'sk_native', runsInProcess: true, canLoad: (m) => 'sklearn' in m.mlmodel.flavors, load: async () => { throw new Error('unused'); } };\n",
    );
    expect((await planProcesses([{ name: 'sk', path: join(FIXTURES, 'iris_sklearn') }], { machine, plugins: [plugin] })).workers).toBe(2);
  });
});
