/**
 * Cross-checks against real PyYAML in a real Python process: our emitter must write exactly what
 * `yaml.safe_dump(default_flow_style=False)` writes, and PyYAML's `safe_load` (what MLflow uses to
 * read MLmodel files) must read back what we wrote. The test command installs Debian's python3-yaml.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PyFloat, createMLmodel, dumpYaml, mlmodelToDict, parseMLmodel, parseSchema, pyJsonDumps, serializeMLmodel } from '../src/index.js';
import { FIXTURE_MODELS, fixturePath } from './fixtures.js';

function findPython(): string {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import yaml'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  throw new Error('no python3 with PyYAML found: install python3-yaml (scripts/test.sh does)');
}

/** Run a Python snippet that reads JSON on stdin and prints JSON. */
function python(code: string, input: unknown): unknown {
  const r = spawnSync(findPython(), ['-c', code], { input: pyJsonDumps(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY = [
  'yes',
  'No',
  'on',
  'null',
  '~',
  '',
  '1.0',
  '1e3',
  '0x1F',
  '012',
  '1:20',
  '2026-11-28',
  '2026-11-28 01:07:37.280888',
  '- a',
  'a: b',
  '#x',
  ' lead',
  'trail ',
  "it's",
  '"q"',
  'é',
  '日本',
  'tab\there',
  'line\nbreak',
  '3.11.2',
  '.inf',
  '=',
  '<<',
  '@at',
  '`tick',
  '%p',
  '!bang',
  '&amp',
  '*star',
  '|pipe',
  '>gt',
  '[x]',
  '{y}',
  'a,b',
  '?q',
  '-',
  '--- x',
];
const WORDS = ['model', 'type', 'double', '"name":', '{"type":', 'tensor', 'required', 'true}', '[-1,', '4]}}', 'probabilities', 'x'];

function randomValue(r: () => number, depth: number): unknown {
  const k = r();
  if (depth < 3 && k < 0.15) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  if (depth < 3 && k < 0.3) return randomMap(r, depth + 1);
  if (k < 0.4) return TRICKY[Math.floor(r() * TRICKY.length)];
  if (k < 0.55) return Array.from({ length: 1 + Math.floor(r() * 40) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  if (k < 0.65) return Math.floor((r() - 0.5) * 1e6);
  if (k < 0.72) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
  if (k < 0.76) return new PyFloat(Math.floor(r() * 100));
  if (k < 0.8) return BigInt(Number.MAX_SAFE_INTEGER) * 1000n + BigInt(Math.floor(r() * 1000));
  if (k < 0.88) return r() < 0.5;
  return null;
}

function randomMap(r: () => number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const key = r() < 0.7 ? `k_${Math.floor(r() * 1000).toString(36)}` : TRICKY[Math.floor(r() * TRICKY.length)]!;
    out[key] = randomValue(r, depth);
  }
  return out;
}

describe('interoperability with real PyYAML', () => {
  it('writes the same bytes as yaml.safe_dump for 400 random documents', () => {
    const r = rng(20261128);
    const docs = Array.from({ length: 400 }, () => ({ flavors: randomMap(r, 1), ...randomMap(r, 1) }));
    const expected = python(
      'import json,sys,yaml\nprint(json.dumps([yaml.safe_dump(d, default_flow_style=False) for d in json.loads(sys.stdin.read())]))',
      docs,
    ) as string[];
    expect(expected).toHaveLength(docs.length);
    docs.forEach((d, i) => expect(dumpYaml(d), `document ${i}: ${pyJsonDumps(d)}`).toBe(expected[i]));
  });

  it('PyYAML safe_load reads our MLmodel files as the same data', () => {
    const texts = FIXTURE_MODELS.map((name) => serializeMLmodel(parseMLmodel(readFileSync(fixturePath(name, 'MLmodel'), 'utf8'))));
    const m = createMLmodel({
      flavors: { onnx: { data: 'model.onnx', onnx_version: '1.17.0', providers: ['CPUExecutionProvider'] } },
      signature: {
        inputs: parseSchema(
          '[{"type": "string", "name": "caf\\u00e9 \\"au lait\\"", "required": true}, {"type": "array", "items": {"type": "double"}, "name": "v", "required": false}]',
        ),
        outputs: null,
        params: null,
      },
      metadata: { note: "it's 'quoted'\nand multi-line", version: '1.10', flag: 'yes', big: 12345678901234567890n },
      run_id: '0123456789',
    });
    texts.push(serializeMLmodel(m));
    const loaded = python('import json,sys,yaml\nprint(json.dumps([yaml.safe_load(t) for t in json.loads(sys.stdin.read())], default=str))', texts) as Record<
      string,
      unknown
    >[];
    const ours = [...FIXTURE_MODELS.map((name) => parseMLmodel(readFileSync(fixturePath(name, 'MLmodel'), 'utf8'))), m].map(
      (x) => JSON.parse(JSON.stringify(mlmodelToDict(x), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as unknown,
    );
    expect(loaded).toEqual(ours);
    // the typed view survives: a quoted-looking run id stays a string in Python
    expect(loaded.at(-1)?.run_id).toBe('0123456789');
  });
});
