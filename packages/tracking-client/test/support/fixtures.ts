/** The file store written by real MLflow 3.5 (shared/fixtures/mlflow-3.5-tracking) and helpers to use a copy of it. */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const TRACKING_FIXTURE = fileURLToPath(new URL('../../../../../shared/fixtures/mlflow-3.5-tracking/mlruns', import.meta.url));
export const MODEL_FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/mlflow-3.5', import.meta.url));
export const PLACEHOLDER = 'file:///MLRUNS_ROOT';

/** Ids and times of the fixture (its README). */
export const FIXTURE = {
  experimentId: '509719040862818973',
  mainRun: 'd8d4f7509cf148869a439a9a28c50b42',
  failedRun: '163ff3df84204cbe90e9e89377d3d6af',
  deletedRun: '9cce96c8fe9c4082a7727fc964ecb843',
  modelId: 'm-90c92f8614ac48b59e121ff4c70c91fb',
} as const;

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => p.split('\\').join('/'))
    .sort();
}

/** Every directory under `dir`, relative, sorted. */
export function dirsUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => statSync(join(dir, p)).isDirectory())
    .map((p) => p.split('\\').join('/'))
    .sort();
}

/** A fixture file's bytes with the placeholder replaced by the `file://` URI of `root`. */
export function fixtureFile(rel: string, root: string): Buffer {
  const data = readFileSync(join(TRACKING_FIXTURE, rel));
  if (data.includes(PLACEHOLDER)) return Buffer.from(data.toString('utf8').split(PLACEHOLDER).join(pathToFileURL(root).href), 'utf8');
  return data;
}

/** A usable copy of the fixture mlruns (placeholder rewritten, README dropped). Returns its root. */
export function copyFixture(parent = mkdtempSync(join(tmpdir(), 'mlruns-fixture-'))): string {
  const root = join(parent, 'mlruns');
  cpSync(TRACKING_FIXTURE, root, { recursive: true });
  rmSync(join(root, 'README.md'));
  for (const rel of filesUnder(root)) writeFileSync(join(root, rel), fixtureFile(rel, root));
  return root;
}

export function relativeTo(root: string, p: string): string {
  return relative(root, p).split('\\').join('/');
}
