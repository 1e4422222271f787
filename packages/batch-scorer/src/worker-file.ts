import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A worker thread's module (`worker`, `write-worker`): the compiled file next to this one. Tests
 * run the TypeScript sources; their workers run the package's `dist/` files (`npm run build`).
 */
export function workerFile(name: string): string {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new URL(`./${name}.js`, here).href;
  const path = fileURLToPath(new URL(`./${name}.ts`, here));
  const at = path.lastIndexOf('/src/');
  return pathToFileURL(`${path.slice(0, at)}/dist/${path.slice(at + 5, -3)}.js`).href;
}
