import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { JsFunctionError } from './errors.js';

/** Whether `p` is `root` or inside it (both absolute, real paths). */
export function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

interface CopyRules {
  /** Symlinks met while copying must point inside this real path. */
  readonly root: string;
  /** Names what is being copied in errors: "code path lib", "artifact 'prices'". */
  readonly what: string;
  /** Real paths never copied (the output directory, when it sits inside what is copied). */
  readonly skip: readonly string[];
}

async function realOrFail(p: string, what: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : (e as Error).message;
    throw new JsFunctionError(`${what}: ${p} ${why}`, 'RESOURCE_DOES_NOT_EXIST', { cause: e });
  }
}

function existsError(dest: string): JsFunctionError {
  return new JsFunctionError(`refusing to overwrite ${dest}: it already exists in the model directory`);
}

/**
 * Copy a file or directory tree. Symlinks are followed when they point inside `rules.root` (the
 * copy holds the target's contents) and refused otherwise; nothing that exists is overwritten.
 */
async function copyTree(src: string, dest: string, rules: CopyRules, ancestors: ReadonlySet<string>): Promise<void> {
  const link = await lstat(src);
  let real = src;
  if (link.isSymbolicLink()) {
    real = await realOrFail(src, `${rules.what}: symlink ${src}`);
    if (!isInside(rules.root, real)) {
      throw new JsFunctionError(`${rules.what}: ${src} is a symlink to ${real}, outside ${rules.root}; copy the target there or remove the link`);
    }
  }
  const s = link.isSymbolicLink() ? await stat(real) : link;
  if (s.isDirectory()) {
    real = await realpath(real);
    if (ancestors.has(real)) throw new JsFunctionError(`${rules.what}: ${src} is a symlink cycle (it leads back to ${real})`);
    try {
      await mkdir(dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw existsError(dest);
      throw e;
    }
    const inner = new Set(ancestors).add(real);
    const entries = (await readdir(src)).sort();
    for (const name of entries) {
      const child = join(src, name);
      if (rules.skip.includes(await realpath(child).catch(() => child))) continue;
      await copyTree(child, join(dest, name), rules, inner);
    }
    return;
  }
  if (!s.isFile()) throw new JsFunctionError(`${rules.what}: ${src} is not a regular file or directory`);
  try {
    await copyFile(real, dest, constants.COPYFILE_EXCL);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw existsError(dest);
    throw e;
  }
}

async function ensureAbsent(p: string): Promise<void> {
  try {
    await lstat(p);
  } catch {
    return;
  }
  throw existsError(p);
}

export interface CodeCopy {
  /** The module file's path relative to `code/`, with `/` separators. */
  readonly entry: string;
}

/**
 * Copy the model module and the code paths it imports into `codeDir`, each at its path relative
 * to the module's directory so relative imports keep working. Code paths must lie inside that
 * directory. `cwd` resolves relative inputs. A `package.json` carrying the module's package
 * `type` is written at the top of `codeDir` (unless one was copied) so `.js` files keep their
 * module kind wherever the model directory goes.
 */
export async function copyCode(modulePath: string, codePaths: readonly string[], codeDir: string, cwd: string, skip: readonly string[]): Promise<CodeCopy> {
  const moduleReal = await realOrFail(resolve(cwd, modulePath), 'model module');
  if (!(await stat(moduleReal)).isFile()) throw new JsFunctionError(`model module ${modulePath} is not a file`);
  const root = dirname(moduleReal);

  const items = new Map<string, string>([[moduleReal, modulePath]]);
  for (const cp of codePaths) {
    if (typeof cp !== 'string' || !cp) throw new JsFunctionError(`code paths must be non-empty strings, got ${JSON.stringify(cp)}`);
    const real = await realOrFail(resolve(cwd, cp), `code path ${cp}`);
    if (!isInside(root, real)) {
      throw new JsFunctionError(
        `code path ${cp} (${real}) is outside the model module's directory ${root}; code paths keep their place relative to the ` +
          'module so its relative imports work, so move the code under that directory (or the module up)',
      );
    }
    items.set(real, cp);
  }
  // a path inside another listed directory is copied with it
  const tops = [...items.keys()].filter((p) => ![...items.keys()].some((q) => q !== p && isInside(q, p))).sort();

  await ensureAbsent(codeDir);
  if (!tops.includes(root)) await mkdir(codeDir, { recursive: true });
  for (const src of tops) {
    const rel = relative(root, src);
    const dest = rel ? join(codeDir, rel) : codeDir;
    if (rel) await mkdir(dirname(dest), { recursive: true });
    await copyTree(src, dest, { root, what: `code path ${items.get(src)!}`, skip }, new Set());
  }
  await writePackageType(root, codeDir);
  return { entry: relative(root, moduleReal).split(sep).join('/') };
}

/** The `type` of the package.json nearest to `dir` (what decides whether its `.js` files are ESM), if any. */
async function packageType(dir: string): Promise<string | undefined> {
  for (let d = dir; ; d = dirname(d)) {
    let text: string | undefined;
    try {
      text = await readFile(join(d, 'package.json'), 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      try {
        const t = (JSON.parse(text) as { type?: unknown }).type;
        return typeof t === 'string' ? t : undefined;
      } catch {
        return undefined;
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

async function writePackageType(moduleDir: string, codeDir: string): Promise<void> {
  const type = await packageType(moduleDir);
  const pkg = `${JSON.stringify({ private: true, ...(type ? { type } : {}) }, null, 2)}\n`;
  try {
    await writeFile(join(codeDir, 'package.json'), pkg, { flag: 'wx' });
  } catch (e) {
    // the module's own package.json was copied: it already says what the source said
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Artifact names become directory entries: one plain path segment. */
const ARTIFACT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Copy each artifact (file or directory) to `artifactsDir/<name>`; returns the MLmodel entries. */
export async function copyArtifacts(
  artifacts: Readonly<Record<string, string>>,
  artifactsDir: string,
  cwd: string,
  skip: readonly string[],
): Promise<Record<string, { path: string }>> {
  const out: Record<string, { path: string }> = {};
  const names = Object.keys(artifacts);
  for (const name of names) {
    if (!ARTIFACT_NAME.test(name)) {
      throw new JsFunctionError(`artifact name ${JSON.stringify(name)} is not allowed: use letters, digits, '_', '-' and '.' (not first)`);
    }
    const src = artifacts[name];
    if (typeof src !== 'string' || !src) throw new JsFunctionError(`artifact '${name}': expected a path, got ${JSON.stringify(src)}`);
  }
  if (names.length === 0) return out;
  await mkdir(artifactsDir, { recursive: true });
  for (const name of names) {
    const src = artifacts[name]!;
    const what = `artifact '${name}'`;
    const real = await realOrFail(resolve(cwd, src), what);
    const dest = join(artifactsDir, name);
    await ensureAbsent(dest);
    await copyTree(real, dest, { root: real, what, skip }, new Set());
    out[name] = { path: `artifacts/${name}` };
  }
  return out;
}
