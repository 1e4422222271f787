import { createHash } from 'node:crypto';
import { parseCondaEnv, parsePythonEnv, parseRequirements } from '@mlmodel/format';

/** Raw contents of a model's environment files; `others` holds referenced requirement/constraint files by name. */
export interface EnvFileContents {
  readonly pythonEnv?: string;
  readonly requirements?: string;
  readonly conda?: string;
  readonly others?: Readonly<Record<string, string>>;
}

/** Number of hex digits of the sha256 used as the key (and in the directory name). */
export const CACHE_KEY_LENGTH = 40;

/** JSON with object keys sorted, so equal YAML documents hash equally whatever their key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function requirementsText(text: string): string {
  return parseRequirements(text).join('\n');
}

/**
 * The cache key of an environment: the first 40 hex digits of the sha256 of the normalized
 * contents of its files (YAML parsed and re-serialized with sorted keys; requirement files without
 * comments, blank lines and trailing spaces; line endings ignored) plus `context`: what else makes
 * two environments differ (env manager, installer, base interpreter and its version).
 */
export function envCacheKey(files: EnvFileContents, context: Readonly<Record<string, string | undefined>> = {}): string {
  const others: Record<string, string> = {};
  for (const [name, text] of Object.entries(files.others ?? {})) others[name] = requirementsText(text);
  const normalized = {
    v: 1,
    pythonEnv: files.pythonEnv !== undefined ? parsePythonEnv(files.pythonEnv) : undefined,
    requirements: files.requirements !== undefined ? requirementsText(files.requirements) : undefined,
    conda: files.conda !== undefined ? parseCondaEnv(files.conda) : undefined,
    others,
    context,
  };
  return createHash('sha256').update(canonicalJson(normalized)).digest('hex').slice(0, CACHE_KEY_LENGTH);
}
