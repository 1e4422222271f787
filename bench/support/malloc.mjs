// glibc's malloc returns freed memory at the top of the heap to the kernel (above 128 KiB) and maps
// blocks of 128 KiB or more afresh, so a Node process that allocates a result buffer per call
// faults in new pages on every call. On this Firecracker VM a page fault costs ~11 µs (measured with
// a fresh mmap, one byte per page), i.e. ~450 µs for a 160 KB result. packages/flavors/README.md
// recommends these settings for processes that serve Python models; the bridge benchmarks run with
// them unless given `--malloc default` (and say which in their JSON).
import { spawnSync } from 'node:child_process';

export const TUNED_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '268435456' };

/** 'tuned' or 'default': what this process runs with (glibc reads these variables at start). */
export function mallocMode() {
  return Object.entries(TUNED_MALLOC_ENV).every(([k, v]) => process.env[k] === v) ? 'tuned' : 'default';
}

/**
 * Unless `--malloc default` is among the arguments, run this same script again with the tuned
 * settings (they only take effect at process start) and exit with its status.
 */
export function rerunWithTunedMalloc() {
  const at = process.argv.indexOf('--malloc');
  const wanted = at > 0 ? process.argv[at + 1] : 'tuned';
  if (wanted !== 'tuned' && wanted !== 'default') throw new Error(`--malloc takes tuned or default, not ${wanted}`);
  if (wanted === 'default' || mallocMode() === 'tuned') return;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...TUNED_MALLOC_ENV } });
  process.exit(r.status ?? 1);
}
