/**
 * Typed errors of the image builder. Each is a user error with a one-line message that says what
 * to do (the CLI prints it as `error: <message>`, never a stack).
 */
import { MlmodelError } from '@mlmodel/format';

/** Something about the request itself: a model that cannot go into an image, a bad option. */
export class ImageBuildError extends MlmodelError {}

/** No Docker engine answers at the address in use. */
export class DockerUnavailableError extends ImageBuildError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'TEMPORARILY_UNAVAILABLE', options);
  }
}

/** The engine refused the build or a build step failed; the message carries the daemon's own. */
export class DockerBuildError extends ImageBuildError {
  /** The last lines the failing step printed (also shown by the progress view). */
  readonly outputTail: readonly string[];

  constructor(message: string, outputTail: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, 'INTERNAL_ERROR', options);
    this.outputTail = outputTail;
  }
}

/** The runtime to put in the image cannot be assembled (e.g. the packages were not built). */
export class RuntimeAssemblyError extends ImageBuildError {}

export { oneLine } from '@mlmodel/format';
