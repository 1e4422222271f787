import { resolve } from 'node:path';
import { modelResolver } from '../args.js';
import { toJson, type Io } from '../output.js';
import { imageFlavors, loadImageBuilder } from './image-builder.js';

export interface GenerateDockerfileCliOptions {
  model?: string;
  outputDirectory: string;
  flavors?: string;
  flavor?: string;
  baseImage?: string;
  envManager?: 'local' | 'virtualenv';
  platform?: string;
  json?: boolean;
}

/** `mlmodel generate-dockerfile`: write the build context `build-docker` would build, for other build tools. */
export async function generateDockerfileCommand(o: GenerateDockerfileCliOptions, io: Io): Promise<number> {
  const ib = await loadImageBuilder();
  const dir = resolve(o.outputDirectory);
  const ctx = await ib.writeBuildContext(dir, {
    ...(o.model !== undefined ? { model: o.model, resolver: modelResolver({ log: io.err }) } : {}),
    ...(o.flavors !== undefined ? { flavors: imageFlavors(ib, o.flavors) } : {}),
    ...(o.flavor !== undefined ? { flavor: o.flavor } : {}),
    ...(o.baseImage !== undefined ? { baseImage: o.baseImage } : {}),
    ...(o.envManager !== undefined ? { envManager: o.envManager } : {}),
    target: ib.parsePlatform(o.platform).target,
  });
  const summary = {
    directory: ctx.dir,
    baseImage: ctx.baseImage,
    flavors: ctx.flavors,
    model: ctx.model ? ctx.model.model.dir : null,
    runtimeBytes: ctx.runtime.bytes,
    runtimePackages: ctx.runtime.packages.length,
  };
  if (o.json) {
    io.out(toJson(summary));
    return 0;
  }
  const python = ctx.flavors.includes('python_function');
  io.out(
    [
      `wrote ${ctx.dir}: Dockerfile, runtime/ (${ctx.runtime.packages.length} packages, ${(ctx.runtime.bytes / 1e6).toFixed(1)} MB)${ctx.model ? ', model/' : ''}`,
      `  build   docker build -t NAME${o.platform ? ` --platform ${o.platform}` : ''} ${ctx.dir}${python ? '   (requirements from a private index: --build-arg PIP_INDEX_URL=URL)' : ''}`,
      `  base    ${ctx.baseImage} (another: --build-arg BASE_IMAGE=IMAGE)`,
    ].join('\n'),
  );
  return 0;
}
