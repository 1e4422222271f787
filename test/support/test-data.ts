/** Helpers shared by tests across packages: locating model files shipped in npm packages, seeded data. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Root directory of an installed package. Walks the resolution paths instead of resolving
 * `<name>/package.json`, which packages with an `exports` map (e.g. @vladmandic/human) hide.
 */
export function packageRoot(name: string): string {
  const require = createRequire(import.meta.url);
  for (const dir of require.resolve.paths(name) ?? []) {
    const d = join(dir, name);
    if (existsSync(join(d, 'package.json'))) return d;
  }
  throw new Error(`${name} is not installed (it is a devDependency of the workspace: run npm ci)`);
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32): the same seed gives the same run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic pseudo-random floats in [0, 1) (`rng`), so failures reproduce. */
export function randomFloats(n: number, seed: number): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: n }, next);
}
