/** Kubernetes resource quantities and names, checked before any manifest is written. */
import { ImageBuildError } from '../errors.js';

const CPU = /^(\d+(\.\d+)?|\d+m)$/;
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/** `--cpu`: cores (`2`, `0.5`) or millicores (`500m`); returns the quantity and the cores. */
export function cpuQuantity(value: string): { quantity: string; cores: number } {
  const v = value.trim();
  if (!CPU.test(v)) throw new ImageBuildError(`--cpu must be a Kubernetes CPU quantity such as 1, 0.5 or 500m, got ${JSON.stringify(value)}`);
  const cores = v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v);
  if (!(cores > 0)) throw new ImageBuildError(`--cpu must be more than 0, got ${JSON.stringify(value)}`);
  return { quantity: v, cores };
}

/** `--memory`: a Kubernetes memory quantity (`512Mi`, `2Gi`, `1G`). */
export function memoryQuantity(value: string): string {
  const v = value.trim();
  if (!MEMORY.test(v) || Number(v.replace(/[A-Za-z]+$/, '')) <= 0) {
    throw new ImageBuildError(`--memory must be a Kubernetes memory quantity such as 512Mi or 2Gi, got ${JSON.stringify(value)}`);
  }
  return v;
}

/** A DNS-1035 label (what Services and KServe names must be): lowercase letters, digits and '-', starting with a letter. */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function checkName(name: string, maxLength: number, what = '--name'): string {
  if (!DNS_LABEL.test(name) || name.length > maxLength) {
    throw new ImageBuildError(
      `${what} ${JSON.stringify(name)} is not a valid name: at most ${maxLength} lowercase letters, digits and '-', starting with a letter and not ending with '-'`,
    );
  }
  return name;
}

/** A valid name from free text (a model directory or image name): `Iris_ONNX` → `iris-onnx`. */
export function nameFrom(text: string, maxLength: number): string {
  const n = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, maxLength)
    .replace(/-+$/, '');
  return n === '' ? 'mlmodel' : n;
}

export function positiveInteger(value: string | number, what: string, min = 1): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min) throw new ImageBuildError(`${what} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}
