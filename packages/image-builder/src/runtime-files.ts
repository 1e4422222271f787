/**
 * The runtime an image carries (mlmodel is not published, so the build context brings its own):
 * the built JS of the @mlmodel packages `mlmodel serve` loads and their production dependencies,
 * found by walking `dependencies` from @mlmodel/cli the way Node resolves them, laid out under the
 * image's /opt/mlmodel exactly as they sit under this installation's root, pruned by
 * prune-rules.ts. Flavor-only packages of flavors the image does not serve are left out.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeAssemblyError } from './errors.js';
import { excludedPackages, type ImageFlavor } from './flavor-packages.js';
import {
  INSTALL_ONLY_DEPENDENCIES,
  isOtherPlatformPackage,
  isTypesOnlyPackage,
  keepRule,
  workspaceKeepRule,
  type Keep,
  type TargetPlatform,
} from './prune-rules.js';

/** The package `mlmodel serve` starts from. */
export const CLI_PACKAGE = '@mlmodel/cli';
const WORKSPACE_SCOPE = '@mlmodel/';

export interface RuntimePackage {
  readonly name: string;
  readonly version: string;
  /** Where the package is installed (symlinks resolved). */
  readonly sourceDir: string;
  /** Where it goes, relative to the runtime root (e.g. `node_modules/fastify`). */
  readonly dest: string;
  /** Kept files, relative to `sourceDir` (`/`-separated). */
  readonly files: readonly string[];
  readonly bytes: number;
}

export interface RuntimePlan {
  /** The installation root whose node_modules holds @mlmodel/cli. */
  readonly root: string;
  readonly packages: readonly RuntimePackage[];
  readonly bytes: number;
}

interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

async function readPackageJson(dir: string): Promise<PackageJson> {
  try {
    return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch (e) {
    throw new RuntimeAssemblyError(`cannot read ${join(dir, 'package.json')}: ${(e as Error).message}`, 'INTERNAL_ERROR', { cause: e });
  }
}

/** The installation root: the directory whose node_modules holds @mlmodel/cli (found from this module, as Node would). */
export function installationRoot(from: string = fileURLToPath(import.meta.url)): string {
  const require = createRequire(from);
  for (const dir of require.resolve.paths(CLI_PACKAGE) ?? []) {
    if (existsSync(join(dir, CLI_PACKAGE, 'package.json'))) return dirname(dir);
  }
  throw new RuntimeAssemblyError(`cannot find ${CLI_PACKAGE} from ${from}: the image builder needs the mlmodel packages installed next to it`);
}

/**
 * Where `name` resolves from the package at `fromDir` (a path under `root`, symlinks kept), by
 * Node's lookup: `<dir>/node_modules/<name>` for `fromDir` and each parent up to `root`.
 */
function resolvePackageDir(name: string, fromDir: string, root: string): string | null {
  let dir = fromDir;
  for (;;) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
    }
    if (dir === root || !dir.startsWith(root + sep)) return null;
    dir = dirname(dir);
  }
}

/** Files under `dir` the rule keeps (nested node_modules are packages of their own). */
async function keptFiles(dir: string, keep: Keep): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel ? join(dir, rel) : dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name === 'node_modules' || e.name === '.bin') continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const st = await stat(join(dir, r)).catch(() => null);
        if (!st) continue; // a dangling link: nothing to copy
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (!keep(r, isDir)) continue;
      if (isDir) await walk(r);
      else if (isFile) {
        files.push(r);
        bytes += (await stat(join(dir, r))).size;
      }
    }
  };
  await walk('');
  return { files, bytes };
}

export interface PlanRuntimeOptions {
  readonly flavors: readonly ImageFlavor[];
  readonly target: TargetPlatform;
  /** Defaults to the installation this module belongs to. */
  readonly root?: string;
}

/** Every package the runtime needs, with the files to copy. */
export async function planRuntime(opts: PlanRuntimeOptions): Promise<RuntimePlan> {
  const root = opts.root ?? installationRoot();
  const excluded = excludedPackages(opts.flavors);
  const start = join(root, 'node_modules', CLI_PACKAGE);
  if (!existsSync(join(start, 'package.json'))) throw new RuntimeAssemblyError(`${CLI_PACKAGE} is not installed under ${root}`);

  const seen = new Map<string, RuntimePackage>(); // by dest
  const queue: { name: string; logicalDir: string }[] = [{ name: CLI_PACKAGE, logicalDir: start }];
  while (queue.length > 0) {
    const { name, logicalDir } = queue.shift()!;
    const dest = relative(root, logicalDir).split(sep).join('/');
    if (seen.has(dest)) continue;
    const pkg = await readPackageJson(logicalDir);
    const sourceDir = await realpath(logicalDir);
    const workspace = name.startsWith(WORKSPACE_SCOPE);
    if (workspace && !existsSync(join(sourceDir, 'dist'))) {
      throw new RuntimeAssemblyError(`${name} has no built JS (${join(sourceDir, 'dist')} is missing): run npm run build first`);
    }
    const keep = workspace
      ? workspaceKeepRule(name === '@mlmodel/flavors' && opts.flavors.includes('python_function') ? ['python'] : [])
      : keepRule({ name, ...(pkg.main ? { main: pkg.main } : {}) }, opts.target);
    const { files, bytes } = await keptFiles(sourceDir, keep);
    seen.set(dest, { name, version: pkg.version ?? '0.0.0', sourceDir, dest, files, bytes });

    const installOnly = new Set(INSTALL_ONLY_DEPENDENCIES[name] ?? []);
    const peers = Object.keys(pkg.peerDependencies ?? {});
    const wanted = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...peers];
    for (const dep of new Set(wanted)) {
      if (excluded.has(dep) || installOnly.has(dep) || isTypesOnlyPackage(dep) || isOtherPlatformPackage(dep, opts.target)) continue;
      const dir = resolvePackageDir(dep, logicalDir, root);
      if (dir === null) {
        // optional and peer dependencies may be absent (another platform's binary, an unused integration)
        if (dep in (pkg.optionalDependencies ?? {}) || peers.includes(dep)) continue;
        throw new RuntimeAssemblyError(`${name} depends on ${dep}, which is not installed under ${root}: run npm ci`);
      }
      queue.push({ name: dep, logicalDir: dir });
    }
  }
  const packages = [...seen.values()].sort((a, b) => (a.dest < b.dest ? -1 : 1));
  return { root, packages, bytes: packages.reduce((n, p) => n + p.bytes, 0) };
}

/** Copy the planned files under `destRoot` (plain files, readable by everyone; executables stay executable). */
export async function copyRuntime(plan: RuntimePlan, destRoot: string): Promise<void> {
  const made = new Set<string>();
  const ensureDir = async (d: string): Promise<void> => {
    if (made.has(d)) return;
    await mkdir(d, { recursive: true, mode: 0o755 });
    made.add(d);
  };
  for (const p of plan.packages) {
    for (const f of p.files) {
      const src = join(p.sourceDir, f);
      const dst = join(destRoot, p.dest, f);
      await ensureDir(dirname(dst));
      await copyFile(src, dst);
      await chmod(dst, (await stat(src)).mode & 0o111 ? 0o755 : 0o644);
    }
  }
  await writeFile(join(destRoot, 'package.json'), `${JSON.stringify({ name: 'mlmodel-image-runtime', private: true, type: 'module' }, null, 2)}\n`);
}
