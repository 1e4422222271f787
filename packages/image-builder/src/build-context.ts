/**
 * A self-contained Docker build context (what `mlmodel generate-dockerfile` writes and
 * `mlmodel build-docker` sends to the engine):
 *
 *   Dockerfile
 *   build/harden.sh                 final stage: no package managers or compilers, the mlmodel user
 *   build/python/                   python_function: the environment scripts and the model's requirements
 *   runtime/                        -> /opt/mlmodel: the @mlmodel packages' built JS, their production
 *                                      node_modules (pruned to the target's native binaries), container/
 *                                      (the entrypoint and the health check)
 *   model/                          -> /opt/ml/model (absent for a generic image)
 */
import { existsSync } from 'node:fs';
import type { ModelUriResolver } from '@mlmodel/format';
import { chmod, copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageBuildError, RuntimeAssemblyError } from './errors.js';
import { IMAGE_FLAVORS, type ImageFlavor } from './flavor-packages.js';
import { checkModelForImage, type ModelForImage } from './model-check.js';
import { DEFAULT_BASE_IMAGE, renderDockerfile, type EnvManager } from './dockerfile.js';
import { copyRuntime, planRuntime, type RuntimePlan } from './runtime-files.js';
import type { TargetPlatform } from './prune-rules.js';

const ASSETS = fileURLToPath(new URL('../assets/', import.meta.url));
/** The built container entry (dist/container), next to this module in dist/ or its source in src/. */
const CONTAINER_JS = fileURLToPath(new URL('../dist/container/', import.meta.url));
const CONTAINER_FILES = ['entry.js', 'serve-args.js', 'healthcheck.js'];

export interface ContextOptions {
  /** The model directory to put in the image; without it, a generic image for `flavors`. */
  readonly model?: string;
  /** Flavors of a generic image (required without `model`). */
  readonly flavors?: readonly ImageFlavor[];
  /** Load the model with this flavor (as `mlmodel serve --flavor`). */
  readonly flavor?: string;
  /** Turns `runs:/`, `models:/` and other remote model URIs into a local directory (the tracking client's). */
  readonly resolver?: ModelUriResolver;
  /** Default: the official node:20-bookworm-slim. */
  readonly baseImage?: string;
  /** python_function: `virtualenv` (default: install what the base lacks) or `local` (the base's Python as it is). */
  readonly envManager?: EnvManager;
  /** Default linux/x64. */
  readonly target?: TargetPlatform;
}

export interface BuildContext {
  readonly dir: string;
  readonly dockerfile: string;
  readonly baseImage: string;
  readonly flavors: readonly ImageFlavor[];
  readonly model?: ModelForImage;
  readonly runtime: RuntimePlan;
  readonly mlmodelVersion: string;
}

/** The model (checked) and the flavors the runtime must serve, before any file is written. */
export async function resolveImageContents(opts: ContextOptions): Promise<{ model?: ModelForImage; flavors: ImageFlavor[] }> {
  if (opts.envManager !== undefined && opts.envManager !== 'local' && opts.envManager !== 'virtualenv') {
    throw new ImageBuildError(`--env-manager must be local or virtualenv in an image, got ${JSON.stringify(opts.envManager)}`);
  }
  if (opts.model === undefined) {
    if (!opts.flavors || opts.flavors.length === 0) {
      throw new ImageBuildError(`give a model (-m MODEL), or the flavors a generic image serves (--flavors ${IMAGE_FLAVORS.join(',')})`);
    }
    return { flavors: [...opts.flavors] };
  }
  const model = await checkModelForImage(opts.model, {
    ...(opts.flavor !== undefined ? { flavor: opts.flavor } : {}),
    ...(opts.resolver ? { resolver: opts.resolver } : {}),
  });
  const extra = opts.flavors ?? [];
  return { model, flavors: IMAGE_FLAVORS.filter((f) => f === model.flavor || extra.includes(f)) };
}

/** Copy a directory tree as plain readable files (symlinks followed; directories 755, files 644 or 755). */
async function copyTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true, mode: 0o755 });
  for (const e of await readdir(src, { withFileTypes: true })) {
    const from = join(src, e.name);
    const to = join(dst, e.name);
    const st = await stat(from);
    if (st.isDirectory()) await copyTree(from, to);
    else if (st.isFile()) {
      await copyFile(from, to);
      await chmod(to, st.mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

function mlmodelVersion(runtime: RuntimePlan): string {
  return runtime.packages.find((p) => p.name === '@mlmodel/cli')?.version ?? '0.0.0';
}

async function writePythonFiles(dir: string, model: ModelForImage | undefined): Promise<void> {
  const py = join(dir, 'build', 'python');
  await mkdir(py, { recursive: true });
  for (const f of ['ensure_python.sh', 'make_env.sh', 'check_requirements.py']) await copyFile(join(ASSETS, 'python', f), join(py, f));
  if (!model?.python) return;
  const lines = (xs: readonly string[]): string => xs.map((x) => `${x}\n`).join('');
  await writeFile(join(py, 'requirements.txt'), lines(model.python.requirements));
  await writeFile(join(py, 'constraints.txt'), lines(model.python.constraints));
  await writeFile(join(py, 'skip.txt'), lines(model.python.skip));
  await writeFile(join(py, 'python-version.txt'), model.python.pythonVersion ? `${model.python.pythonVersion}\n` : '');
}

/**
 * Write a build context into `dir` (created; it must be missing or empty). The model is checked
 * first: a broken model fails before anything is written.
 */
export async function writeBuildContext(
  dir: string,
  opts: ContextOptions,
  contents?: { model?: ModelForImage; flavors: ImageFlavor[] },
): Promise<BuildContext> {
  const { model, flavors } = contents ?? (await resolveImageContents(opts));
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new ImageBuildError(`${dir} is not empty: give a new or empty directory for the build context`);
  for (const f of CONTAINER_FILES) {
    if (!existsSync(join(CONTAINER_JS, f))) throw new RuntimeAssemblyError(`${join(CONTAINER_JS, f)} is missing: run npm run build first`);
  }
  const runtime = await planRuntime({ flavors, target: opts.target ?? { os: 'linux', arch: 'x64' } });
  const version = mlmodelVersion(runtime);
  const baseImage = opts.baseImage ?? DEFAULT_BASE_IMAGE;
  const python = flavors.includes('python_function');

  await mkdir(join(dir, 'build'), { recursive: true });
  await copyFile(join(ASSETS, 'harden.sh'), join(dir, 'build', 'harden.sh'));
  if (python) await writePythonFiles(dir, model);
  await copyRuntime(runtime, join(dir, 'runtime'));
  await mkdir(join(dir, 'runtime', 'container'), { recursive: true });
  for (const f of CONTAINER_FILES) await writeFile(join(dir, 'runtime', 'container', f), await readFile(join(CONTAINER_JS, f)));
  if (model) await copyTree(model.model.dir, join(dir, 'model'));

  const dockerfile = renderDockerfile({
    baseImage,
    flavors,
    ...(model ? { model: { name: model.name, flavor: model.flavor } } : {}),
    ...(python ? { python: { envManager: opts.envManager ?? 'virtualenv' } } : {}),
    mlmodelVersion: version,
  });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  return { dir, dockerfile, baseImage, flavors, ...(model ? { model } : {}), runtime, mlmodelVersion: version };
}
