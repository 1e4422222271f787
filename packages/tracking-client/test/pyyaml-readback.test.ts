/**
 * MLflow reads meta.yaml with PyYAML: every meta.yaml our file store writes, with awkward values
 * (names that look like numbers, booleans or null, quotes, colons, `#`, non-ASCII, long strings),
 * is loaded by the real PyYAML (/usr/bin/python3, `yaml.safe_load`) and must give back exactly the
 * values we stored. Non-ASCII text is written escaped (PyYAML's `allow_unicode=False` form, where
 * MLflow writes it raw); PyYAML reads both the same, which this checks.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../src/index.js';

const PYTHON = '/usr/bin/python3';
const tmp = mkdtempSync(join(tmpdir(), 'pyyaml-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const AWKWARD = [
  '0.5',
  'true',
  'null',
  '~',
  'yes',
  '1e3',
  '0x1F',
  '012',
  'a: b',
  '#hash',
  "it's",
  'say "hi"',
  'résumé ünïcode ✓',
  '- dash',
  ' lead',
  'x'.repeat(120),
  '2024-01-01',
  '',
];

describe('meta.yaml written here, read by the real PyYAML', () => {
  it('experiment and run names and user ids come back exactly as stored', async () => {
    const root = join(tmp, 'mlruns');
    const store = new FileStore(root);
    const expected: Record<string, Record<string, unknown>> = {};
    for (const [i, name] of AWKWARD.entries()) {
      if (!name.trim()) continue; // MLflow refuses blank experiment names
      const expId = await store.createExperiment(`exp ${name}`);
      const run = await store.createRun({ experiment_id: expId, run_name: name, user_id: `user ${i} ${name}`, start_time: 1700000000000 + i });
      expected[`${expId}/meta.yaml`] = { name: `exp ${name}`, experiment_id: expId };
      expected[`${expId}/${run.info.run_id}/meta.yaml`] = {
        run_name: name,
        user_id: `user ${i} ${name}`,
        experiment_id: expId,
        start_time: 1700000000000 + i,
        status: 1,
      };
    }
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('meta.yaml'));
    const script = 'import json, sys, yaml\nprint(json.dumps({f: yaml.safe_load(open(sys.argv[1] + "/" + f, encoding="utf-8")) for f in sys.argv[2:]}))';
    const loaded = JSON.parse(execFileSync(PYTHON, ['-c', script, root, ...files], { encoding: 'utf8' })) as Record<string, Record<string, unknown>>;
    expect(Object.keys(expected).length).toBeGreaterThan(30);
    for (const [file, want] of Object.entries(expected)) expect(loaded[file], file).toMatchObject(want);
    // and our reader agrees with PyYAML on every file
    for (const [file, want] of Object.entries(expected)) {
      const [expId, runId] = file.split('/');
      if (runId === 'meta.yaml') expect((await store.getExperiment(expId!)).name).toBe(want.name);
      else expect((await store.getRun(runId!)).info).toMatchObject({ run_name: want.run_name, user_id: want.user_id });
    }
  });
});
