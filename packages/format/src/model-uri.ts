import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelUriError } from './errors.js';

/**
 * A parsed model URI. Resolution of `runs:` and `models:` against a tracking server is the
 * tracking client's job; this module only parses (reference §8.1).
 */
export type ModelUri =
  | { kind: 'local'; path: string }
  | { kind: 'run'; runId: string; artifactPath: string }
  | { kind: 'registered'; name: string; version: string; subPath?: string | undefined; profile?: string | undefined }
  | { kind: 'alias'; name: string; alias: string; subPath?: string | undefined; profile?: string | undefined }
  | { kind: 'stage'; name: string; stage: string; subPath?: string | undefined; profile?: string | undefined }
  | { kind: 'latest'; name: string; subPath?: string | undefined; profile?: string | undefined }
  | { kind: 'logged-model'; modelId: string; subPath?: string | undefined; profile?: string | undefined }
  | { kind: 'remote'; scheme: string; uri: string };

const MODELS_FORMS =
  "Models URIs must be of the form 'models:/name/suffix' or 'models:/name@alias' where suffix is a model version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time.";

function badModels(uri: string): never {
  throw new ModelUriError(`Not a proper models:/ URI: ${uri}. ${MODELS_FORMS}`);
}

/** Split `scheme:[//netloc]/path`. */
function splitUri(uri: string): { scheme: string; netloc: string; path: string } | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(\/\/([^/]*))?(.*)$/.exec(uri);
  if (!m || m[1]!.length === 1) return undefined; // one letter: a Windows drive, not a scheme
  return { scheme: m[1]!.toLowerCase(), netloc: m[3] ?? '', path: m[4] ?? '' };
}

function parseModels(uri: string, netloc: string, path: string): ModelUri {
  const profile = netloc || undefined;
  const segments = path.split('/').filter((s) => s.length > 0);
  if (segments.length === 0) badModels(uri);
  const first = segments[0]!;
  const at = first.lastIndexOf('@');
  if (at >= 0) {
    const name = first.slice(0, at);
    const alias = first.slice(at + 1);
    if (!name.trim() || !alias) badModels(uri);
    const subPath = segments.slice(1).join('/') || undefined;
    return { kind: 'alias', name, alias, subPath, profile };
  }
  if (segments.length === 1) return { kind: 'logged-model', modelId: first, profile };
  const name = first;
  const suffix = segments[1]!;
  if (!name.trim() || !suffix.trim()) badModels(uri);
  const subPath = segments.slice(2).join('/') || undefined;
  if (/^\d+$/.test(suffix)) return { kind: 'registered', name, version: suffix, subPath, profile };
  if (suffix.toLowerCase() === 'latest') return { kind: 'latest', name, subPath, profile };
  return { kind: 'stage', name, stage: suffix, subPath, profile };
}

/** Parse a model URI: a local path, `file://`, `runs:/`, `models:/`, or another scheme (kept as remote). */
export function parseModelUri(uri: string, cwd = process.cwd()): ModelUri {
  if (!uri || !uri.trim()) throw new ModelUriError('model URI is empty');
  const parts = splitUri(uri);
  // resolve() also normalizes: `model/`, `/abs/model/` and `a/../model` name the same directory as `model`
  if (!parts) return { kind: 'local', path: resolve(cwd, uri) };
  const { scheme, netloc, path } = parts;
  switch (scheme) {
    case 'file':
      if (netloc && netloc !== 'localhost') throw new ModelUriError(`file URIs must be local: ${uri}`);
      return { kind: 'local', path: resolve(fileURLToPath(`file://${path}`)) };
    case 'runs': {
      const segs = path.split('/').filter(Boolean);
      const runId = segs[0];
      if (!runId) throw new ModelUriError(`Not a proper runs:/ URI: ${uri}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'`);
      return { kind: 'run', runId, artifactPath: segs.slice(1).join('/') };
    }
    case 'models':
      return parseModels(uri, netloc, path);
    default:
      return { kind: 'remote', scheme, uri };
  }
}

/** Back to text, in canonical form. */
export function formatModelUri(u: ModelUri): string {
  const sub = (p?: string): string => (p ? `/${p}` : '');
  const prof = (p?: string): string => (p ? `//${p}` : ':');
  switch (u.kind) {
    case 'local':
      return u.path;
    case 'run':
      return `runs:/${u.runId}${sub(u.artifactPath)}`;
    case 'registered':
      return `models${prof(u.profile)}/${u.name}/${u.version}${sub(u.subPath)}`;
    case 'alias':
      return `models${prof(u.profile)}/${u.name}@${u.alias}${sub(u.subPath)}`;
    case 'stage':
      return `models${prof(u.profile)}/${u.name}/${u.stage}${sub(u.subPath)}`;
    case 'latest':
      return `models${prof(u.profile)}/${u.name}/latest${sub(u.subPath)}`;
    case 'logged-model':
      return `models${prof(u.profile)}/${u.modelId}${sub(u.subPath)}`;
    case 'remote':
      return u.uri;
  }
}
