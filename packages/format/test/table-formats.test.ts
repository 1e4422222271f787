/**
 * Table formats and content types, defined once in format (the CLI re-exports them), and the
 * promise that the main entry does not load Arrow or Parquet code.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPE_SHORT_NAMES, contentTypeForFile, sniffTableFormat, TABLE_FILE_EXTENSIONS, tableFormatForFile } from '../src/index.js';

describe('file extensions and content types', () => {
  it('tableFormatForFile maps every known extension, case-insensitively, and nothing else', () => {
    const cases: [string, string | undefined][] = [
      ['a.csv', 'csv'],
      ['dir.v2/A.CSV', 'csv'],
      ['x.parquet', 'parquet'],
      ['x.pq', 'parquet'],
      ['x.arrows', 'arrow-stream'],
      ['x.arrow', 'arrow'],
      ['x.feather', 'arrow'],
      ['x.jsonl', 'jsonl'],
      ['x.ndjson', 'jsonl'],
      ['x.json', undefined],
      ['x.parquet.gz', undefined],
      ['noext', undefined],
      // Not inherited Object properties.
      ['x.constructor', undefined],
      ['x.toString', undefined],
    ];
    for (const [file, format] of cases) expect(tableFormatForFile(file), file).toBe(format);
    expect(Object.keys(TABLE_FILE_EXTENSIONS).sort()).toEqual(['arrow', 'arrows', 'csv', 'feather', 'jsonl', 'ndjson', 'parquet', 'pq']);
  });

  it('contentTypeForFile: short names, MIME types passed through, extensions, JSON otherwise (the CLI behaviour)', () => {
    expect(CONTENT_TYPE_SHORT_NAMES).toEqual({
      json: 'application/json',
      csv: 'text/csv',
      parquet: 'application/vnd.apache.parquet',
      arrow: 'application/vnd.apache.arrow.stream',
      'arrow-file': 'application/vnd.apache.arrow.file',
    });
    for (const [name, mime] of Object.entries(CONTENT_TYPE_SHORT_NAMES)) expect(contentTypeForFile('whatever.csv', name)).toBe(mime);
    expect(contentTypeForFile('x.csv', 'text/csv; charset=utf-8')).toBe('text/csv; charset=utf-8');
    expect(contentTypeForFile('x.csv', 'toString')).toBe('toString');
    expect(contentTypeForFile('in.CSV')).toBe('text/csv');
    expect(contentTypeForFile('in.parquet')).toBe('application/vnd.apache.parquet');
    expect(contentTypeForFile('in.pq')).toBe('application/vnd.apache.parquet');
    expect(contentTypeForFile('in.arrows')).toBe('application/vnd.apache.arrow.stream');
    expect(contentTypeForFile('in.arrow')).toBe('application/vnd.apache.arrow.file');
    expect(contentTypeForFile('in.feather')).toBe('application/vnd.apache.arrow.file');
    expect(contentTypeForFile('in.json')).toBe('application/json');
    expect(contentTypeForFile('in.jsonl')).toBe('application/json');
    expect(contentTypeForFile('-')).toBe('application/json');
  });

  it('sniffTableFormat recognises Parquet, Arrow file and Arrow stream magic', () => {
    const enc = new TextEncoder();
    expect(sniffTableFormat(enc.encode('PAR1xxxx'))).toBe('parquet');
    expect(sniffTableFormat(enc.encode('ARROW1\0\0'))).toBe('arrow');
    expect(sniffTableFormat(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0))).toBe('arrow-stream');
    expect(sniffTableFormat(enc.encode('a,b\n1,2\n'))).toBeUndefined();
    expect(sniffTableFormat(new Uint8Array(0))).toBeUndefined();
  });
});

describe('entry points', () => {
  const support = fileURLToPath(new URL('./support/', import.meta.url));
  const imports = (entry: string): string[] => {
    const r = spawnSync(process.execPath, ['--import', './register-ts.mjs', '--input-type=module', '-e', `await import(${JSON.stringify(entry)});`], {
      cwd: support,
      encoding: 'utf8',
      env: { ...process.env, MLMODEL_TRACE_IMPORTS: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stderr.split('\n').filter((l) => l.startsWith('import: '));
  };

  it('the main entry loads neither apache-arrow nor parquet-wasm; the table entry loads apache-arrow only', () => {
    const main = imports('../../src/index.ts');
    expect(main.some((l) => l.includes('/src/table/transfer.ts'))).toBe(true);
    expect(main.filter((l) => /apache-arrow|parquet-wasm/.test(l))).toEqual([]);
    const table = imports('../../src/table/index.ts');
    expect(table.some((l) => l.includes('/apache-arrow/'))).toBe(true);
    expect(table.filter((l) => l.includes('parquet-wasm'))).toEqual([]);
  });
});
