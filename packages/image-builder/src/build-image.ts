/**
 * `mlmodel build-docker`: check the model, reach the engine, write the build context to a
 * temporary directory, build it, and report the image (id, size, size over its base).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBuildContext, resolveImageContents, type BuildContext, type ContextOptions } from './build-context.js';
import type { BuildEvent } from './build-progress.js';
import { buildContext, connectDocker, imageFacts } from './docker-engine.js';
import { DockerBuildError, ImageBuildError } from './errors.js';
import { splitImageReference } from './registry-push.js';
import type { ImageFlavor } from './flavor-packages.js';
import type { TargetPlatform } from './prune-rules.js';

export interface BuildImageOptions extends ContextOptions {
  /** NAME[:TAG] (`:latest` when no tag is given). */
  readonly tag: string;
  /** Labels added to the image (`--label k=v`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** pip's index for requirements the base lacks (a build arg: it shows in `docker history`, so keep secrets out of it). */
  readonly pipIndexUrl?: string;
  readonly noCache?: boolean;
  /** Network of RUN steps (`host` where the engine has no bridge network). */
  readonly network?: string;
  /** `linux/amd64` (default) or `linux/arm64`: the platform the image is for (its base, its native binaries). */
  readonly platform?: string;
  /** Each build event as it arrives (for a progress view). */
  readonly onEvent?: (e: BuildEvent) => void;
  /** Where things stand, one line at a time ("checking the model", "sending 70 MB"). */
  readonly onStatus?: (line: string) => void;
}

export interface BuiltImage {
  readonly id: string;
  readonly tag: string;
  readonly sizeBytes: number;
  readonly baseImage: string;
  /** Bytes over the base image (the layers this build added), when the engine has the base. */
  readonly overBaseBytes: number | null;
  readonly flavors: readonly ImageFlavor[];
  readonly model: string | null;
  /** Bytes of the runtime (node_modules and built JS) the image carries. */
  readonly runtimeBytes: number;
  readonly durationMs: number;
}

/** The tag with `:latest` added when it has none; an invalid name is an ImageBuildError. */
export function normalizeTag(tag: string): string {
  let ref: ReturnType<typeof splitImageReference>;
  try {
    ref = splitImageReference(tag);
  } catch (e) {
    throw new ImageBuildError(
      `-n/--name ${JSON.stringify(tag)} is not a valid image name: use lowercase letters, digits and . _ - / with an optional :tag, e.g. iris-onnx:1`,
      'INVALID_PARAMETER_VALUE',
      { cause: e },
    );
  }
  return `${ref.registry ? `${ref.registry}/` : ''}${ref.repository}:${ref.tag}`;
}

/** `--platform`: the Docker platform and the runtime's target (whose native binaries go in). */
export function parsePlatform(platform = 'linux/amd64'): { platform: string; target: TargetPlatform } {
  if (platform === 'linux/amd64' || platform === 'linux/x86_64') return { platform: 'linux/amd64', target: { os: 'linux', arch: 'x64' } };
  if (platform === 'linux/arm64' || platform === 'linux/aarch64') return { platform: 'linux/arm64', target: { os: 'linux', arch: 'arm64' } };
  throw new ImageBuildError(`--platform must be linux/amd64 or linux/arm64, got ${JSON.stringify(platform)}`);
}

export async function buildImage(opts: BuildImageOptions): Promise<BuiltImage> {
  const started = performance.now();
  const tag = normalizeTag(opts.tag);
  const { platform, target } = parsePlatform(opts.platform);
  const status = opts.onStatus ?? (() => undefined);
  // a broken model fails before the engine is even asked
  const contents = await resolveImageContents(opts);
  const docker = await connectDocker();
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-image-'));
  try {
    const ctx: BuildContext = await writeBuildContext(join(dir, 'context'), { ...opts, target }, contents);
    status(
      `building ${tag} from ${ctx.baseImage}: ${ctx.model ? `${ctx.model.name} (${ctx.model.flavor})` : `generic image for ${ctx.flavors.join(', ')}`}, runtime ${(ctx.runtime.bytes / 1e6).toFixed(1)} MB`,
    );
    const buildArgs: Record<string, string> = {};
    if (opts.pipIndexUrl) buildArgs.PIP_INDEX_URL = opts.pipIndexUrl;
    if (opts.baseImage) buildArgs.BASE_IMAGE = opts.baseImage;
    const baseBefore = await imageFacts(docker, ctx.baseImage);
    const id = await buildContext(
      docker,
      ctx.dir,
      await readdir(ctx.dir),
      {
        tag,
        ...(opts.labels ? { labels: opts.labels } : {}),
        buildArgs,
        ...(opts.noCache ? { noCache: true } : {}),
        ...(opts.network ? { network: opts.network } : {}),
        platform,
      },
      opts.onEvent ?? (() => undefined),
    ).catch((e: unknown) => {
      if (e instanceof DockerBuildError && baseBefore === null && /\(FROM /.test(e.message)) {
        throw new DockerBuildError(
          `${e.message} (the base image ${ctx.baseImage} is not in the engine and could not be pulled: pull or docker load it, or make a local one with scripts/make-base-images.sh and pass --base-image)`,
          e.outputTail,
        );
      }
      throw e;
    });
    const image = await imageFacts(docker, id);
    const base = baseBefore ?? (await imageFacts(docker, ctx.baseImage));
    const size = image?.size ?? 0;
    return {
      id,
      tag,
      sizeBytes: size,
      baseImage: ctx.baseImage,
      overBaseBytes: base ? size - base.size : null,
      flavors: ctx.flavors,
      model: ctx.model ? ctx.model.model.dir : null,
      runtimeBytes: ctx.runtime.bytes,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
