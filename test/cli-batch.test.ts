/**
 * `mlmodel batch` end to end: the built CLI (`npm run build`) scores files written by DuckDB with
 * models saved by MLflow 3.5 and small js_function models; DuckDB reads the outputs. Progress
 * lines, the summary, exit codes, and interrupts (SIGINT/SIGTERM leave nothing at the destination).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARKED_MODEL, MARKED_SIGNATURE, duckWrite, irisSql, jsModel, openDuck, tempDir, type Duck } from '../packages/batch-scorer/test/support.js';
import { batchCommand, type BatchCliOptions } from '../packages/cli/src/commands/batch.js';
import { BIN, FIXTURES, GOLDEN, PYTHON } from './support/serve-process.js';

const tmp = tempDir('cli');
let duck: Duck;
let marked: string;
beforeAll(async () => {
  duck = await openDuck();
  marked = await jsModel(tmp.dir, 'marked', MARKED_MODEL, MARKED_SIGNATURE);
});
afterAll(() => {
  duck.close();
  tmp.cleanup();
});

function mlmodel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  // the timeout also catches a CLI that never exits (a worker thread or Python process keeping it alive)
  return spawnSync(process.execPath, [BIN, 'batch', ...args], { encoding: 'utf8', cwd: tmp.dir, timeout: 120_000 });
}

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('mlmodel batch', () => {
  it('scores a Parquet file with iris_onnx: JSON summary on stdout, JSON progress on stderr, DuckDB reads the output', async () => {
    const input = tmp.path('iris.parquet');
    await duckWrite(duck, irisSql(100_000), input);
    const output = tmp.path('iris-out.parquet');
    const r = mlmodel(['-m', join(FIXTURES, 'iris_onnx'), '-i', input, '-o', output, '--workers', '2', '--compression', 'zstd', '--progress-interval', '0.1']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      output,
      format: 'parquet',
      files: 1,
      rows: 100_000,
      rows_written: 100_000,
      rows_scored: 100_000,
      workers: 2,
      mode: 'threads',
    });
    expect(summary.rows_per_second).toBeGreaterThan(0);
    expect(summary.peak_rss_bytes).toBeGreaterThan(0);
    expect(summary.output_bytes).toBe(readFileSync(output).length);
    const progress = jsonLines(r.stderr);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p) => p.event === 'progress')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', rows_done: 100_000, total_rows: 100_000, fraction: 1 });
    expect(await duck.query(`SELECT count(*)::INT AS n, count(DISTINCT label)::INT AS labels FROM read_parquet('${output}')`)).toEqual([
      { n: 100_000, labels: 3 },
    ]);
    expect(await duck.query(`SELECT DISTINCT compression FROM parquet_metadata('${output}')`)).toEqual([{ compression: 'ZSTD' }]);
  });

  it('scores churn_pipeline (python_function) from CSV with 2 Python processes: the golden probabilities', async () => {
    const c = GOLDEN.cases.churn_pipeline![0]!;
    const { data } = (c.request as { dataframe_split: { data: [string, number, number][] } }).dataframe_split;
    const values = data.map(([p, t, m], k) => `(${k}, '${p}', ${t}, ${m})`).join(', ');
    const input = tmp.path('churn.csv');
    await duckWrite(duck, `SELECT g.* FROM range(400) r(i), (VALUES ${values}) g(k, plan, tenure_months, monthly_charges) ORDER BY r.i, g.k`, input);
    const output = tmp.path('churn-out.parquet');
    const r = mlmodel(['-m', join(FIXTURES, 'churn_pipeline'), '-i', input, '-o', output, '--python', PYTHON, '--batch-rows', '500', '--keep-columns', 'k']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 2000, rows_scored: 2000, mode: 'main', workers: 2, flavor: 'python_function' });
    const rows = await duck.query(`SELECT k, prediction FROM read_parquet('${output}', file_row_number = true) ORDER BY file_row_number`);
    expect(rows).toHaveLength(2000);
    rows.forEach((row, i) => {
      expect(Number(row.k)).toBe(i % 5);
      expect(row.prediction).toEqual((c.predictions as number[][])[i % 5]);
    });
  });

  it('--on-error skip and null finish with exit code 3 and a JSON failure line per failing range', async () => {
    const input = tmp.path('marked.parquet');
    await duckWrite(duck, 'SELECT i AS id, CASE WHEN i IN (10, 300) THEN -1.0 ELSE i::DOUBLE END AS x FROM range(1000) r(i)', input);
    for (const mode of ['skip', 'null'] as const) {
      const output = tmp.path(`marked-${mode}.parquet`);
      const r = mlmodel(['-m', marked, '-i', input, '-o', output, '--on-error', mode, '--batch-rows', '250']);
      expect(r.status, r.stderr).toBe(3);
      const failures = jsonLines(r.stderr).filter((l) => l.event === 'failure');
      expect(failures.map((f) => [f.row_start, f.row_end, f.action])).toEqual([
        [10, 11, mode === 'skip' ? 'skipped' : 'nulled'],
        [300, 301, mode === 'skip' ? 'skipped' : 'nulled'],
      ]);
      const message = String(failures[0]!.message);
      expect(message.startsWith(`${input} row 10: `), message).toBe(true);
      expect(message).toContain('x must not be negative, got -1');
      const summary = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(summary).toMatchObject(mode === 'skip' ? { rows_written: 998, rows_skipped: 2 } : { rows_written: 1000, rows_nulled: 2 });
      const nulls = await duck.query(`SELECT count(*)::INT AS n FROM read_parquet('${output}') WHERE score IS NULL`);
      expect(nulls).toEqual([{ n: mode === 'skip' ? 0 : 2 }]);
    }
  });

  it('a schema mismatch is one line naming the column and the rows (exit 1, nothing written); bad flags are usage errors (exit 2)', async () => {
    const input = tmp.path('no-plan.parquet');
    await duckWrite(duck, 'SELECT 3 AS tenure_months, 10.5 AS monthly_charges FROM range(5)', input);
    const output = tmp.path('no-plan-out.parquet');
    const r = mlmodel(['-m', join(FIXTURES, 'churn_pipeline'), '-i', input, '-o', output, '--python', PYTHON, '--workers', '1']);
    expect(r.status).toBe(1);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('{')),
    ).toEqual([`error: ${input} rows 0–4: Model is missing inputs ['plan'].`]);
    expect(existsSync(output)).toBe(false);

    for (const bad of [
      ['--on-error', 'maybe'],
      ['--workers', '0'],
      ['--keep-columns', 'a,,b'],
      ['--params', '[1]'],
      ['--format', 'xlsx'],
    ]) {
      const u = mlmodel(['-m', marked, '-i', input, '-o', output, ...bad]);
      expect(u.status, bad.join(' ')).toBe(2);
      expect(u.stderr).toMatch(/^error: /);
    }
    const missing = mlmodel(['-m', marked, '-i', tmp.path('nope.parquet'), '-o', output]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe(`error: the input ${tmp.path('nope.parquet')} does not exist`);
  });

  it('a corrupt Parquet file fails the run with one line naming it; nothing is written', async () => {
    const input = tmp.path('corrupt.parquet');
    await duckWrite(duck, irisSql(20_000), input, 'ROW_GROUP_SIZE 5000');
    const bytes = readFileSync(input);
    bytes.fill(0xab, Math.floor(bytes.length * 0.3), Math.floor(bytes.length * 0.6));
    writeFileSync(input, bytes);
    const output = tmp.path('corrupt-out.parquet');
    const r = mlmodel(['-m', join(FIXTURES, 'iris_onnx'), '-i', input, '-o', output, '--progress', 'none']);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith(`error: ${input}: `)).toBe(true);
    expect(existsSync(output)).toBe(false);
  });

  it('on a terminal: a live bar (rows, rows/s, ETA, workers busy) redrawn in place, and a summary in words', async () => {
    const input = tmp.path('bar.parquet');
    await duckWrite(duck, 'SELECT i AS id, CASE WHEN i % 50 = 0 THEN 0.25 ELSE i::DOUBLE END AS x FROM range(2000) r(i)', input);
    let err = '';
    let out = '';
    const io = { out: (s: string) => void (out += `${s}\n`), err: (s: string) => void (err += `${s}\n`) };
    const term = { stderrIsTTY: true, stdoutIsTTY: true, columns: 200, writeErr: (s: string) => void (err += s) };
    const opts: BatchCliOptions = {
      model: marked,
      input: [input],
      output: tmp.path('bar-out.parquet'),
      batchRows: '100',
      workers: '2',
      progressInterval: '0.05',
    };
    expect(await batchCommand(opts, io, term)).toBe(0);
    const frames = err.split('\r\x1b[2K').filter(Boolean);
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.some((f) => /^\[#*\.*\] +\d+% {2}[\d,]+\/2,000 rows {2}[\d,]+ rows\/s {2}ETA \d+:\d\d {2}workers [0-2]\/2 busy$/.test(f))).toBe(true);
    expect(err.endsWith('\r\x1b[2K')).toBe(true);
    expect(out).toMatch(
      /^scored 2,000 of 2,000 rows from 1 file in [\d.]+ s: [\d,]+ rows\/s, 2 worker threads, peak RSS \d+ MiB; wrote .*bar-out\.parquet \(2,000 rows, [\d.]+ MiB\)\n$/,
    );
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} mid-run stops with exit ${signal === 'SIGINT' ? 130 : 143}, leaving no output and no temporary file`, async () => {
      const dir = tmp.path(`interrupt-${signal}`);
      mkdirSync(dir);
      const input = join(dir, 'slow.parquet');
      // every row takes 20 ms: 4000 rows keep 2 workers busy for 40 s
      await duckWrite(duck, 'SELECT i AS id, 0.25 AS x FROM range(4000) r(i)', input);
      const output = join(dir, 'out.parquet');
      const child = spawn(process.execPath, [BIN, 'batch', '-m', marked, '-i', input, '-o', output, '--batch-rows', '10', '--progress-interval', '0.05'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no progress: ${stderr}`)), 60_000);
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          if (/"rows_done":[1-9]/.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const sentAt = performance.now();
      child.kill(signal);
      expect(await exited).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(performance.now() - sentAt).toBeLessThan(15_000);
      expect(stderr).toContain(`error: interrupted by ${signal}; no output was written`);
      expect(readdirSync(dir)).toEqual(['slow.parquet']);
    });
  }
});
