/** Input paths → files: directories (recursive, markers and hidden files skipped), globs, errors. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchScoringError, globToRegExp, resolveInputs } from '../src/index.js';
import { tempDir } from './support.js';

const tmp = tempDir('inputs');
beforeAll(() => {
  for (const f of [
    'b.parquet',
    'a.parquet',
    'c.csv',
    'notes.txt',
    '_SUCCESS',
    '.a.parquet.123.tmp',
    'y=2024/part-1.parquet',
    'y=2024/part-0.arrow',
    '_tmp/x.parquet',
  ]) {
    mkdirSync(join(tmp.dir, 'data', f, '..'), { recursive: true });
    writeFileSync(join(tmp.dir, 'data', f), f);
  }
  mkdirSync(join(tmp.dir, 'empty'));
});
afterAll(() => tmp.cleanup());

const names = async (inputs: string[]) => (await resolveInputs(inputs)).map((f) => relative(tmp.dir, f.path));

describe('resolveInputs', () => {
  it('a directory gives its table files, recursively and in path order, without markers, hidden or temporary files', async () => {
    expect(await names([join(tmp.dir, 'data')])).toEqual([
      'data/a.parquet',
      'data/b.parquet',
      'data/c.csv',
      'data/y=2024/part-0.arrow',
      'data/y=2024/part-1.parquet',
    ]);
  });

  it('globs match in path order; several inputs keep their order; a named file is taken whatever its extension', async () => {
    expect(await names([join(tmp.dir, 'data/*.parquet')])).toEqual(['data/a.parquet', 'data/b.parquet']);
    expect(await names([join(tmp.dir, 'data/**/*.{arrow,csv}')])).toEqual(['data/c.csv', 'data/y=2024/part-0.arrow']);
    expect(await names([join(tmp.dir, 'data/b.parquet'), join(tmp.dir, 'data/?.csv'), join(tmp.dir, 'data/notes.txt')])).toEqual([
      'data/b.parquet',
      'data/c.csv',
      'data/notes.txt',
    ]);
    const sizes = await resolveInputs([join(tmp.dir, 'data/a.parquet')]);
    expect(sizes[0]!.bytes).toBe('a.parquet'.length);
  });

  it('says what is wrong: nothing given, a missing file, a glob without matches, a directory without tables', async () => {
    await expect(resolveInputs([])).rejects.toThrow('no input given');
    await expect(resolveInputs([join(tmp.dir, 'nope.parquet')])).rejects.toThrow(`the input ${join(tmp.dir, 'nope.parquet')} does not exist`);
    await expect(resolveInputs([join(tmp.dir, 'data/*.feather')])).rejects.toThrow(BatchScoringError);
    await expect(resolveInputs([join(tmp.dir, 'data/*.feather')])).rejects.toThrow(`no file matches ${join(tmp.dir, 'data/*.feather')}`);
    await expect(resolveInputs([join(tmp.dir, 'empty')])).rejects.toThrow(/holds no Parquet, Arrow or CSV files/);
  });
});

describe('globToRegExp', () => {
  it('matches *, ?, **, [..] and {..} like a shell with globstar', () => {
    const cases: [string, string, boolean][] = [
      ['*.parquet', 'a.parquet', true],
      ['*.parquet', 'sub/a.parquet', false],
      ['**/*.parquet', 'a.parquet', true],
      ['**/*.parquet', 'x/y/a.parquet', true],
      ['part-?.csv', 'part-1.csv', true],
      ['part-?.csv', 'part-10.csv', false],
      ['part-[0-4].csv', 'part-3.csv', true],
      ['part-[!0-4].csv', 'part-7.csv', true],
      ['part-[!0-4].csv', 'part-3.csv', false],
      ['*.{csv,arrow}', 'a.arrow', true],
      ['*.{csv,arrow}', 'a.parquet', false],
      ['a+b(1).csv', 'a+b(1).csv', true],
    ];
    for (const [glob, path, match] of cases) expect(globToRegExp(glob).test(path), `${glob} ~ ${path}`).toBe(match);
  });
});
