/**
 * Paths that come from a server (artifact listings, URIs) are untrusted: they must stay inside
 * the directory they are written to. Anything else — `..`, `.`, empty segments, absolute paths,
 * drive letters, backslashes, NUL — is refused with {@link UnsafeArtifactPathError}, never
 * "cleaned up" into something else.
 */
import { isAbsolute, resolve, sep } from 'node:path';
import { UnsafeArtifactPathError } from '../errors.js';

const MAX_PATH_LENGTH = 4096;
const MAX_SEGMENT_LENGTH = 255;

function describe(p: string): string {
  return JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p);
}

/** One path segment (a name in a listing): not empty, `.` or `..`, no separators or control characters. */
export function safeSegment(name: string, context: string): string {
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('\\') ||
    // eslint-disable-next-line no-control-regex
    /[\x00-\x1f]/.test(name) ||
    name.length > MAX_SEGMENT_LENGTH ||
    /^[a-zA-Z]:/.test(name)
  ) {
    throw new UnsafeArtifactPathError(`${context}: refusing the artifact name ${describe(name)} (it is not a plain file or directory name)`);
  }
  return name;
}

/**
 * A relative, `/`-separated artifact path with only plain segments (`model/MLmodel`). The empty
 * string is the root. A single trailing slash is allowed and dropped.
 */
export function safeRelativePath(p: string, context: string): string {
  if (p === '') return '';
  const trimmed = p.endsWith('/') ? p.slice(0, -1) : p;
  if (trimmed.length > MAX_PATH_LENGTH || trimmed.startsWith('/') || trimmed.startsWith('\\') || isAbsolute(trimmed) || /^[a-zA-Z]:/.test(trimmed)) {
    throw new UnsafeArtifactPathError(`${context}: refusing the artifact path ${describe(p)} (absolute paths are not allowed)`);
  }
  for (const seg of trimmed.split('/')) {
    try {
      safeSegment(seg, context);
    } catch {
      throw new UnsafeArtifactPathError(
        `${context}: refusing the artifact path ${describe(p)} (it has a ${describe(seg)} segment; only plain names are allowed)`,
      );
    }
  }
  return trimmed;
}

/** `rel` (already checked) under `root`, asserting the result is inside `root`. */
export function localPathWithin(root: string, rel: string): string {
  const base = resolve(root);
  const p = resolve(base, ...rel.split('/'));
  if (p !== base && !p.startsWith(base.endsWith(sep) ? base : base + sep)) {
    throw new UnsafeArtifactPathError(`refusing the artifact path ${describe(rel)}: it points outside ${base}`);
  }
  return p;
}

/** `a/b` joined `/`-wise, either side possibly empty. */
export function joinArtifactPath(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return `${a.replace(/\/+$/, '')}/${b.replace(/^\/+/, '')}`;
}
