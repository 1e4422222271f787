import { keyValues, modelResolver } from '../args.js';
import { processIo, toJson, type Io } from '../output.js';
import { loadImageBuilder, imageFlavors } from './image-builder.js';

export interface BuildDockerCliOptions {
  model?: string;
  name: string;
  flavors?: string;
  flavor?: string;
  baseImage?: string;
  label?: string[];
  envManager?: 'local' | 'virtualenv';
  pipIndexUrl?: string;
  /** commander's `--no-cache` */
  cache?: boolean;
  network?: string;
  platform?: string;
  quiet?: boolean;
  json?: boolean;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** `mlmodel build-docker`: build an image that serves the model (or any mounted model) through the engine at $DOCKER_HOST. */
export async function buildDockerCommand(o: BuildDockerCliOptions, io: Io): Promise<number> {
  const ib = await loadImageBuilder();
  const labels = keyValues(o.label, '--label');
  const live = !o.quiet && io === processIo && process.stderr.isTTY === true;
  const view = o.quiet ? null : live ? ib.liveProgress(process.stderr) : ib.plainProgress((line) => io.err(line));
  let built;
  try {
    built = await ib.buildImage({
      tag: o.name,
      ...(o.model !== undefined ? { model: o.model, resolver: modelResolver({ log: io.err }) } : {}),
      ...(o.flavors !== undefined ? { flavors: imageFlavors(ib, o.flavors) } : {}),
      ...(o.flavor !== undefined ? { flavor: o.flavor } : {}),
      ...(o.baseImage !== undefined ? { baseImage: o.baseImage } : {}),
      ...(o.envManager !== undefined ? { envManager: o.envManager } : {}),
      ...(o.pipIndexUrl !== undefined ? { pipIndexUrl: o.pipIndexUrl } : {}),
      ...(o.network !== undefined ? { network: o.network } : {}),
      ...(o.platform !== undefined ? { platform: o.platform } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      noCache: o.cache === false,
      onEvent: (e) => view?.event(e),
      onStatus: (line) => {
        if (!o.quiet) io.err(`mlmodel: ${line}`);
      },
    });
  } finally {
    view?.finish();
  }
  if (o.json) {
    io.out(toJson(built));
    return 0;
  }
  const over = built.overBaseBytes === null ? '' : ` (${mb(built.overBaseBytes)} over ${built.baseImage})`;
  io.out(
    [
      `built ${built.tag} in ${(built.durationMs / 1000).toFixed(1)} s`,
      `  image id  ${built.id}`,
      `  size      ${mb(built.sizeBytes)}${over}`,
      `  serves    ${built.model ?? `a model mounted at /opt/ml/model (${built.flavors.join(', ')})`}`,
      `  run       docker run -p 8080:8080 ${built.model ? '' : '-v MODEL_DIR:/opt/ml/model:ro '}${built.tag}`,
    ].join('\n'),
  );
  return 0;
}
