/**
 * The file encodings of MLflow's file store (reference §9.4, and the fixture README):
 * `meta.yaml` as PyYAML `yaml.dump(sort_keys=True, default_flow_style=False)`, param and tag
 * files holding the raw value with no trailing newline, metric files with one
 * `"<timestamp> <value> <step>[ <run_id>][ <dataset_name> <dataset_digest>]\n"` line per value,
 * the value written as Python's `str(float)`.
 */
import { appendFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dumpYaml, loadYaml, pyFloatRepr, writeFileAtomic } from '@mlmodel/format';
import { InvalidParameterError } from '../errors.js';
import type { KeyValue, Metric } from '../types.js';

export const META_FILE = 'meta.yaml';

/** Errors the file store raises carry where they happened. */
export function fileStoreContext(root: string, op: string): { status: number; endpoint: string; source: string } {
  return { status: 0, endpoint: op, source: `file store ${root}` };
}

export async function writeMeta(dir: string, data: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, META_FILE), dumpYaml(data));
}

/** A meta.yaml as a mapping, or null when the file does not exist. */
export async function readMeta(dir: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(join(dir, META_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
  const d = loadYaml(text, { file: join(dir, META_FILE) });
  return typeof d === 'object' && d !== null ? (d as Record<string, unknown>) : null;
}

/** A meta.yaml value as a string (ids may be written as ints by old versions). */
export function metaString(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : String(v);
}

export function metaNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

/**
 * MLflow's rule for param, tag and metric keys: alphanumerics, `_ - . / :` and spaces, at most
 * 250 characters, and a `/` path that normalizes to itself (no `..`, no leading or doubled `/`),
 * since the key becomes a file path.
 */
export function checkKey(key: string, what: string, root: string): void {
  const ctx = fileStoreContext(root, `log ${what}`);
  if (!key || !/^[/\w.\- :]*$/.test(key)) {
    throw new InvalidParameterError(
      'INVALID_PARAMETER_VALUE',
      `Invalid ${what} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
      ctx,
    );
  }
  if (key.length > 250)
    throw new InvalidParameterError(
      'INVALID_PARAMETER_VALUE',
      `${what} '${key.slice(0, 40)}…' had length ${key.length}, which exceeded length limit of 250`,
      ctx,
    );
  const segs = key.split('/');
  if (key.startsWith('/') || segs.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidParameterError(
      'INVALID_PARAMETER_VALUE',
      `Invalid ${what} name: '${key}'. Names cannot be a path that is not unique (no '..', '.', leading or repeated '/').`,
      ctx,
    );
  }
}

/** Write `key`'s raw value (no trailing newline) under `dir`; `/` in the key nests directories. */
export async function writeKeyValue(dir: string, key: string, value: string): Promise<void> {
  const file = join(dir, ...key.split('/'));
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, value);
}

export async function readKeyValue(dir: string, key: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, ...key.split('/')), 'utf8');
  } catch {
    return undefined;
  }
}

/** Every key under `dir` (nested paths joined with `/`), sorted. */
export async function listKeys(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const rel = join(e.parentPath, e.name).slice(dir.length + 1);
    out.push(rel.split(/[\\/]/).join('/'));
  }
  return out.sort();
}

export async function readKeyValues(dir: string): Promise<KeyValue[]> {
  const out: KeyValue[] = [];
  for (const key of await listKeys(dir)) out.push({ key, value: await readFile(join(dir, ...key.split('/')), 'utf8') });
  return out;
}

/** A metric line; `runId` is written for a logged model's metric file. */
export function metricLine(m: Metric, runId?: string): string {
  const parts = [String(m.timestamp), pyFloatRepr(m.value), String(m.step)];
  if (runId !== undefined) parts.push(runId);
  if (m.dataset_name && m.dataset_digest) parts.push(m.dataset_name, m.dataset_digest);
  return `${parts.join(' ')}\n`;
}

export async function appendMetric(dir: string, m: Metric, runId?: string): Promise<void> {
  const file = join(dir, ...m.key.split('/'));
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, metricLine(m, runId));
}

/** Python's `float()` of a metric value as written (`0.9`, `nan`, `inf`, `-inf`, `1e-05`). */
function parseFloatPy(s: string): number {
  const t = s.toLowerCase();
  if (t === 'nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return Number(s);
}

/**
 * The lines of a metric file. Run files: `ts value [step [dataset_name dataset_digest]]` (two
 * fields mean step 0); logged-model files (`modelFile`): `ts value step run_id [dataset_name dataset_digest]`.
 */
export async function readMetricFile(file: string, key: string, modelFile: boolean): Promise<Metric[]> {
  const text = await readFile(file, 'utf8');
  const out: Metric[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.trim().split(' ');
    const m: Metric = { key, timestamp: Number(f[0]), value: parseFloatPy(f[1] ?? 'nan'), step: f.length > 2 ? Number(f[2]) : 0 };
    let rest = f.slice(3);
    if (modelFile && rest.length > 0) {
      m.run_id = rest[0]!;
      rest = rest.slice(1);
    }
    if (rest.length >= 2) {
      m.dataset_name = rest[0]!;
      m.dataset_digest = rest[1]!;
    }
    out.push(m);
  }
  return out;
}

/** Every metric file under `dir` with its key. */
export async function readMetrics(dir: string, modelFiles: boolean): Promise<Metric[][]> {
  const out: Metric[][] = [];
  for (const key of await listKeys(dir)) out.push(await readMetricFile(join(dir, ...key.split('/')), key, modelFiles));
  return out;
}

/** The "latest" value MLflow reports for a metric: largest (step, timestamp, value). */
export function latestMetric(history: readonly Metric[]): Metric | undefined {
  let best: Metric | undefined;
  for (const m of history) {
    if (!best || m.step > best.step || (m.step === best.step && (m.timestamp > best.timestamp || (m.timestamp === best.timestamp && m.value > best.value))))
      best = m;
  }
  return best;
}

export async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}
