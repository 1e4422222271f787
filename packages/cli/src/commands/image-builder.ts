/**
 * The container commands' access to @mlmodel/image-builder: imported when one of them runs (it
 * brings dockerode), so the other commands, and images, which carry no image builder, start
 * without it.
 */
import { InvalidArgumentError } from 'commander';
import { MlmodelError } from '@mlmodel/format';
import type * as ImageBuilder from '@mlmodel/image-builder';

export type ImageBuilderModule = typeof ImageBuilder;

export async function loadImageBuilder(): Promise<ImageBuilderModule> {
  try {
    return await import('@mlmodel/image-builder');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new MlmodelError('this mlmodel installation has no @mlmodel/image-builder (images carry none): build images where mlmodel is installed with it');
    }
    throw e;
  }
}

/** `--flavors a,b`: a usage error when a name is not a flavor an image can serve. */
export function imageFlavors(ib: ImageBuilderModule, value: string): ImageBuilder.ImageFlavor[] {
  try {
    return ib.parseFlavorList(value);
  } catch (e) {
    if (e instanceof MlmodelError) throw new InvalidArgumentError(e.message);
    throw e;
  }
}

/** A whole-number option (commander argParser): a usage error otherwise. */
export function integerOption(flag: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min) throw new InvalidArgumentError(`${flag} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
}
