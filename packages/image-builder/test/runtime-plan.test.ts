/**
 * The runtime an image carries, planned from this installation for real: which packages, which
 * files, for each flavor set; and the pruning rules on their own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAVOR_ONLY_PACKAGES, IMAGE_FLAVORS, excludedPackages, parseFlavorList } from '../src/flavor-packages.js';
import { isOtherPlatformPackage, keepRule, workspaceKeepRule } from '../src/prune-rules.js';
import { installationRoot, planRuntime, type RuntimePlan } from '../src/runtime-files.js';

const target = { os: 'linux', arch: 'x64' } as const;
const plans = new Map<string, Promise<RuntimePlan>>();
const plan = (flavors: (typeof IMAGE_FLAVORS)[number][]): Promise<RuntimePlan> => {
  const key = flavors.join(',');
  if (!plans.has(key)) plans.set(key, planRuntime({ flavors, target }));
  return plans.get(key)!;
};
const names = (p: RuntimePlan): string[] => p.packages.map((x) => x.name);
const allFiles = (p: RuntimePlan): string[] => p.packages.flatMap((x) => x.files.map((f) => `${x.dest}/${f}`));

describe('planRuntime', () => {
  it('starts from @mlmodel/cli and lays packages out as this installation does', async () => {
    const p = await plan(['onnx']);
    expect(p.root).toBe(installationRoot());
    const cli = p.packages.find((x) => x.name === '@mlmodel/cli')!;
    expect(cli.dest).toBe('node_modules/@mlmodel/cli');
    for (const n of ['@mlmodel/format', '@mlmodel/flavors', '@mlmodel/serve', 'fastify', 'commander', 'apache-arrow', 'parquet-wasm', 'yaml'])
      expect(names(p)).toContain(n);
    // each planned file exists where it is copied from
    for (const x of p.packages) for (const f of x.files.slice(0, 5)) expect(existsSync(join(x.sourceDir, f)), `${x.sourceDir}/${f}`).toBe(true);
  });

  it('an ONNX runtime: onnxruntime-node with only linux/x64 binaries, no tfjs, no installer dependencies', async () => {
    const p = await plan(['onnx']);
    expect(names(p)).toContain('onnxruntime-node');
    expect(names(p).filter((n) => n.startsWith('@tensorflow/'))).toEqual([]);
    expect(names(p)).not.toContain('adm-zip');
    expect(names(p)).not.toContain('global-agent');
    // the deploy commands and their cloud SDKs never go into an image
    expect(names(p).filter((n) => /^@mlmodel\/(deploy-|image-builder)|^@aws-sdk\/|^@azure\/|^@smithy\/|^dockerode$/.test(n))).toEqual([]);
    const ort = p.packages.find((x) => x.name === 'onnxruntime-node')!;
    expect(ort.files.filter((f) => f.startsWith('bin/')).sort()).toEqual([
      'bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'bin/napi-v6/linux/x64/onnxruntime_binding.node',
    ]);
    expect(ort.files.some((f) => f.startsWith('script/'))).toBe(false);
    expect(ort.files).toContain('dist/index.js');
    expect(p.bytes).toBeLessThan(90e6);
    expect(p.bytes).toBeGreaterThan(46e6);
  });

  it('for linux/arm64: onnxruntime’s linux/arm64 binaries, and no other platform’s package', async () => {
    const p = await planRuntime({ flavors: ['onnx'], target: { os: 'linux', arch: 'arm64' } });
    const ort = p.packages.find((x) => x.name === 'onnxruntime-node')!;
    expect(ort.files.filter((f) => f.startsWith('bin/')).sort()).toEqual([
      'bin/napi-v6/linux/arm64/libonnxruntime.so.1',
      'bin/napi-v6/linux/arm64/onnxruntime_binding.node',
    ]);
    expect(names(p).filter((n) => /x64/.test(n))).toEqual([]);
    expect(isOtherPlatformPackage('@napi-rs/nice-linux-x64-gnu', target)).toBe(false);
    expect(isOtherPlatformPackage('@napi-rs/nice-linux-x64-musl', target)).toBe(true);
    expect(isOtherPlatformPackage('@napi-rs/nice-darwin-arm64', target)).toBe(true);
    expect(isOtherPlatformPackage('@esbuild/win32-x64', target)).toBe(true);
    expect(isOtherPlatformPackage('fastify', target)).toBe(false);
  });

  it('a tfjs runtime: the five tfjs packages as their Node bundles and WebAssembly, no onnxruntime', async () => {
    const p = await plan(['tfjs']);
    expect(names(p)).not.toContain('onnxruntime-node');
    for (const n of FLAVOR_ONLY_PACKAGES.tfjs) expect(names(p)).toContain(n);
    const wasm = p.packages.find((x) => x.name === '@tensorflow/tfjs-backend-wasm')!;
    expect([...wasm.files].sort()).toEqual([
      'dist/tf-backend-wasm.node.js',
      'dist/tfjs-backend-wasm-simd.wasm',
      'dist/tfjs-backend-wasm-threaded-simd.wasm',
      'dist/tfjs-backend-wasm.wasm',
      'package.json',
    ]);
  });

  it('js_function and python_function runtimes carry neither native runtime; the Python bridge only for python_function', async () => {
    const js = await plan(['js_function']);
    const py = await plan(['python_function']);
    for (const p of [js, py]) {
      expect(names(p)).not.toContain('onnxruntime-node');
      expect(names(p).filter((n) => n.startsWith('@tensorflow/'))).toEqual([]);
    }
    const bridge = (p: RuntimePlan): string[] => p.packages.find((x) => x.name === '@mlmodel/flavors')!.files.filter((f) => f.startsWith('python/'));
    expect(bridge(js)).toEqual([]);
    expect(bridge(py)).toContain('python/mlmodel_worker.py');
    expect(bridge(py)).toContain('python/mlmodel_bridge/loaders.py');
    expect(bridge(py).some((f) => f.includes('__pycache__'))).toBe(false);
  });

  it('no TypeScript, declarations, maps, dev tools, the image builder or Docker clients in any runtime', async () => {
    const p = await plan([...IMAGE_FLAVORS]);
    const files = allFiles(p);
    expect(files.filter((f) => /\.(ts|map|tsbuildinfo)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /^node_modules\/@mlmodel\/[^/]+\/src\//.test(f))).toEqual([]);
    for (const n of ['@mlmodel/image-builder', 'dockerode', 'docker-modem', 'typescript', 'vitest', 'eslint', 'prettier', '@types/node'])
      expect(names(p)).not.toContain(n);
    // workspace packages: package.json and dist only (plus the bridge)
    for (const x of p.packages.filter((q) => q.name.startsWith('@mlmodel/'))) {
      for (const f of x.files) expect(f === 'package.json' || f.startsWith('dist/') || f.startsWith('python/'), `${x.name}/${f}`).toBe(true);
    }
    // licenses travel with the code
    expect(files).toContain('node_modules/fastify/LICENSE');
  });

  it('every production dependency of a planned package is planned too (nothing left to resolve in the image)', async () => {
    const p = await plan(['onnx']);
    const excluded = excludedPackages(['onnx']);
    for (const x of p.packages) {
      const pkg = JSON.parse(readFileSync(join(x.sourceDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      for (const dep of Object.keys(pkg.dependencies ?? {})) {
        if (excluded.has(dep) || dep.startsWith('@types/') || (x.name === 'onnxruntime-node' && ['adm-zip', 'global-agent'].includes(dep))) continue;
        expect(names(p), `${x.name} → ${dep}`).toContain(dep);
      }
    }
  });

  it('the flavor-only packages are dependencies of @mlmodel/flavors (the table follows the package)', () => {
    const root = installationRoot();
    const flavors = JSON.parse(readFileSync(join(root, 'node_modules', '@mlmodel', 'flavors', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const list of Object.values(FLAVOR_ONLY_PACKAGES)) for (const n of list) expect(Object.keys(flavors.dependencies)).toContain(n);
  });
});

describe('prune rules', () => {
  const generic = keepRule({ name: 'some-package' }, target);

  it('drops declarations, maps, TypeScript and docs; keeps code, data and licenses', () => {
    expect(generic('index.js', false)).toBe(true);
    expect(generic('lib/data.json', false)).toBe(true);
    expect(generic('module.wasm', false)).toBe(true);
    expect(generic('index.d.ts', false)).toBe(false);
    expect(generic('index.js.map', false)).toBe(false);
    expect(generic('src/index.ts', false)).toBe(false);
    expect(generic('README.md', false)).toBe(false);
    expect(generic('LICENSE.md', false)).toBe(true);
    expect(generic('NOTICE.txt', false)).toBe(true);
  });

  it('drops top-level test and doc trees but keeps code directories of the same name deeper down (yaml’s dist/doc)', () => {
    expect(generic('test', true)).toBe(false);
    expect(generic('docs', true)).toBe(false);
    expect(generic('dist/doc', true)).toBe(true);
    expect(generic('dist/doc/directives.js', false)).toBe(true);
  });

  it("drops other platforms' prebuilt binaries", () => {
    expect(generic('prebuilds/linux-x64/addon.node', false)).toBe(true);
    expect(generic('prebuilds/darwin-arm64', true)).toBe(false);
    expect(generic('prebuilds/win32-x64', true)).toBe(false);
    expect(generic('prebuilds/linux-arm64', true)).toBe(false);
    expect(keepRule({ name: 'x' }, { os: 'linux', arch: 'arm64' })('prebuilds/linux-arm64', true)).toBe(true);
  });

  it('parquet-wasm keeps its node build only', () => {
    const pw = keepRule({ name: 'parquet-wasm' }, target);
    expect(pw('node/parquet_wasm_bg.wasm', false)).toBe(true);
    expect(pw('esm', true)).toBe(false);
    expect(pw('bundler', true)).toBe(false);
  });

  it('workspace packages: package.json, dist JS, and the directories asked for', () => {
    const ws = workspaceKeepRule(['python']);
    expect(ws('package.json', false)).toBe(true);
    expect(ws('dist/index.js', false)).toBe(true);
    expect(ws('dist/index.d.ts', false)).toBe(false);
    expect(ws('dist/index.js.map', false)).toBe(false);
    expect(ws('src', true)).toBe(false);
    expect(ws('test', true)).toBe(false);
    expect(ws('python/mlmodel_worker.py', false)).toBe(true);
    expect(ws('python/mlmodel_bridge/__pycache__', true)).toBe(false);
    expect(workspaceKeepRule([])('python', true)).toBe(false);
  });
});

describe('--flavors', () => {
  it('is checked and put in the registry’s order', () => {
    expect(parseFlavorList('python_function, onnx')).toEqual(['onnx', 'python_function']);
    expect(() => parseFlavorList('onnx,sklearn')).toThrow("--flavors: unknown flavor 'sklearn'; an image can serve onnx, tfjs, js_function, python_function");
    expect(() => parseFlavorList(' , ')).toThrow(/needs at least one/);
  });
});
