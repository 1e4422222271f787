/**
 * Input paths → the files to score, in order: a file as named (its format is sniffed when read),
 * a directory's table files (Parquet, Arrow, CSV by extension, searched recursively, hidden and
 * `_`-prefixed entries such as `_SUCCESS` skipped, in path order), and globs (`*`, `?`, `**`,
 * `[abc]`, `{a,b}`) matched against the file system, in path order. Node 20 has no `fs.glob`.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { tableFormatForFile } from '@mlmodel/format';
import { BatchScoringError } from './errors.js';

export interface InputFile {
  /** The path as the user would recognise it (relative paths stay relative). */
  readonly path: string;
  readonly bytes: number;
}

const GLOB_CHARS = /[*?[{]/;

/** Whether a directory entry is one a directory or glob read skips (hidden files, Spark/Hadoop markers and temporary files). */
function skipped(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

/** Whether a file name has the extension of a readable table format. */
function isTableFile(name: string): boolean {
  const f = tableFormatForFile(name);
  return f !== undefined && f !== 'jsonl';
}

async function walk(dir: string, out: string[], depth: number): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new BatchScoringError(`cannot list ${dir}: ${(e as Error).message}`, 'RESOURCE_DOES_NOT_EXIST');
  }
  for (const e of entries) {
    if (skipped(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth > 0) await walk(p, out, depth - 1);
    } else if (e.isFile() || e.isSymbolicLink()) {
      out.push(p);
    }
  }
}

/** A glob as a regular expression over `/`-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches any number of directories (none included); a trailing `**` anything below
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:[^/]*/)*' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The directory part of a glob before its first wildcard segment, and the rest. */
function splitGlob(pattern: string): { base: string; rest: string } {
  const parts = pattern.split('/');
  const at = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, at).join('/');
  return { base: base === '' ? (pattern.startsWith('/') ? '/' : '.') : base, rest: parts.slice(at).join('/') };
}

async function expandGlob(pattern: string): Promise<string[]> {
  const { base, rest } = splitGlob(pattern.split(sep).join('/'));
  const deep = rest.includes('**');
  const depth = deep ? Infinity : rest.split('/').length - 1;
  const re = globToRegExp(rest);
  const found: string[] = [];
  try {
    if (!(await stat(base)).isDirectory()) return [];
  } catch {
    return [];
  }
  await walk(base, found, depth);
  return found.filter((p) => re.test(relative(base, p).split(sep).join('/'))).map((p) => (base === '.' && !isAbsolute(pattern) ? relative('.', p) : p));
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

/**
 * The files `inputs` name, in order: each input's files sorted by path. A path that does not
 * exist, a directory without table files, or a glob that matches nothing is a `BatchScoringError`.
 */
export async function resolveInputs(inputs: readonly string[]): Promise<InputFile[]> {
  if (inputs.length === 0) throw new BatchScoringError('no input given: name Parquet, Arrow or CSV files, directories or globs');
  const out: InputFile[] = [];
  for (const input of inputs) {
    let st;
    try {
      st = await stat(input);
    } catch {
      st = undefined;
    }
    let files: string[];
    if (st?.isFile()) files = [input];
    else if (st?.isDirectory()) {
      const all: string[] = [];
      await walk(input, all, Infinity);
      files = all.filter((p) => isTableFile(p)).sort();
      if (files.length === 0)
        throw new BatchScoringError(`the directory ${input} holds no Parquet, Arrow or CSV files (.parquet, .pq, .arrow, .arrows, .feather, .csv)`);
    } else if (GLOB_CHARS.test(input)) {
      files = (await expandGlob(input)).sort();
      if (files.length === 0) throw new BatchScoringError(`no file matches ${input}`, 'RESOURCE_DOES_NOT_EXIST');
    } else {
      throw new BatchScoringError(`the input ${input} does not exist`, 'RESOURCE_DOES_NOT_EXIST');
    }
    for (const path of files) out.push({ path, bytes: await sizeOf(path) });
  }
  return out;
}

/** Whether two paths name the same file (by absolute path; the output need not exist yet). */
export function samePath(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}
