import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type * as TfLayers from '@tensorflow/tfjs-layers';

/** The tfjs modules the flavor uses. */
export interface Tfjs {
  readonly core: typeof TfCore;
  readonly converter: typeof TfConverter;
  readonly layers: typeof TfLayers;
}

let loading: Promise<Tfjs> | undefined;

/**
 * Import tfjs on first use: the three packages take about half a second to import, which
 * processes that never load a tfjs model should not pay.
 */
export function loadTfjs(): Promise<Tfjs> {
  loading ??= (async () => {
    const [core, converter, layers] = await Promise.all([
      import('@tensorflow/tfjs-core'),
      import('@tensorflow/tfjs-converter'),
      import('@tensorflow/tfjs-layers'),
    ]);
    return { core, converter, layers };
  })();
  return loading;
}
