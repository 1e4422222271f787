import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { MlmodelError, openModelDir, type ModelDir } from '@mlmodel/format';
import type { Flavor, LoadedModel, LoadOptionFlag, LoadOptions } from './flavor.js';

/** A flavor that cannot be found or loaded, or a model no registered flavor can load. */
export class FlavorError extends MlmodelError {}

/** A load option a flavor refuses (`Flavor.checkOptions`); the message names the option and what it takes. */
export class FlavorOptionError extends FlavorError {
  constructor(message: string) {
    super(message, 'INVALID_PARAMETER_VALUE');
  }
}

/**
 * Picks the flavor that loads a model: an explicit choice first, then the registered flavors in
 * registration order (native ones first, `python_function` last as the fallback).
 */
export class FlavorRegistry {
  readonly #flavors: Flavor<unknown>[] = [];

  register(flavor: Flavor<unknown>): this {
    const at = this.#flavors.findIndex((f) => f.name === flavor.name);
    if (at >= 0) this.#flavors[at] = flavor;
    else this.#flavors.push(flavor);
    return this;
  }

  get(name: string): Flavor<unknown> | undefined {
    return this.#flavors.find((f) => f.name === name);
  }

  names(): string[] {
    return this.#flavors.map((f) => f.name);
  }

  /** The flavor for a model; `override` names one explicitly (`--flavor`). */
  pick(model: ModelDir, override?: string): Flavor<unknown> {
    const present = Object.keys(model.mlmodel.flavors);
    if (override) {
      const f = this.get(override);
      if (!f) throw new FlavorError(`unknown flavor '${override}'; available: ${this.names().join(', ')}`);
      if (!f.canLoad(model)) {
        throw new FlavorError(`flavor '${override}' cannot load ${model.dir}: the model has flavors ${present.join(', ')}`);
      }
      return f;
    }
    const f = this.#flavors.find((x) => x.canLoad(model));
    if (!f) {
      throw new FlavorError(
        `no flavor can load ${model.dir}: it has flavors ${present.join(', ')}, and mlmodel supports ${this.names().join(', ')}` +
          ' (name a plugin with --plugin to add one)',
      );
    }
    return f;
  }

  /**
   * Open a model directory and load it with the picked flavor. The flavor gets a `loadModel` for
   * inner models that loads through this registry (unless the caller gave one).
   */
  async load(pathOrModel: string | ModelDir, opts: LoadOptions & { flavor?: string } = {}): Promise<LoadedModel> {
    const model = typeof pathOrModel === 'string' ? await openModelDir(pathOrModel) : pathOrModel;
    const { flavor, ...load } = opts;
    return this.pick(model, flavor).load(model, { loadModel: (path, inner) => this.load(path, inner), ...load });
  }

  /** Check load options with every registered flavor that reads options (before anything loads). */
  checkOptions(options: Readonly<Record<string, unknown>>): void {
    for (const f of this.#flavors) f.checkOptions?.(options);
  }

  /** The command-line flags the registered flavors declare for their load options. */
  optionFlags(): LoadOptionFlag[] {
    return this.#flavors.flatMap((f) => f.optionFlags ?? []);
  }

  /**
   * Register a third-party flavor from an npm package name or a module path. The module's default
   * export, or its `flavor` export, must implement the Flavor interface.
   */
  async loadPlugin(specifier: string, cwd = process.cwd()): Promise<Flavor<unknown>> {
    const target = specifier.startsWith('.') || isAbsolute(specifier) ? pathToFileURL(resolve(cwd, specifier)).href : specifier;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(target)) as Record<string, unknown>;
    } catch (e) {
      throw new FlavorError(`cannot import flavor plugin '${specifier}': ${(e as Error).message}`, 'INVALID_PARAMETER_VALUE', { cause: e });
    }
    const candidate = (mod.flavor ?? mod.default) as Partial<Flavor<unknown>> | undefined;
    if (!candidate || typeof candidate.name !== 'string' || typeof candidate.canLoad !== 'function' || typeof candidate.load !== 'function') {
      throw new FlavorError(`'${specifier}' is not a flavor plugin: export an object with name, canLoad() and load() as default or as 'flavor'`);
    }
    // plugins go before the python_function fallback but after nothing else: they were asked for explicitly
    const flavor = candidate as Flavor<unknown>;
    this.#flavors.unshift(flavor);
    return flavor;
  }
}

/** Whether a model has a `flavors.<name>` block. */
export function hasFlavor(model: ModelDir, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(model.mlmodel.flavors, name);
}
