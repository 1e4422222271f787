import { runnableModule } from '@mlmodel/flavors';

/**
 * A worker thread's module (`worker`, `write-worker`): the compiled file next to this one. Tests
 * run the TypeScript sources; their workers run the package's `dist/` files (`npm run build`).
 */
export function workerFile(name: string): string {
  return runnableModule(new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
}
