/**
 * Artifacts through the tracking server's artifact proxy (`mlflow server --serve-artifacts`,
 * the default since MLflow 2): `mlflow-artifacts:/<path>` URIs, or the `http(s)://…/api/2.0/mlflow-artifacts/artifacts/<path>`
 * URIs behind them (reference §8.3, recordings #22–#27).
 *
 * - list: `GET /api/2.0/mlflow-artifacts/artifacts?path=<root>/<rel>` → `{"files": [{"path": <basename>, "is_dir", "file_size"}]}`
 * - download: `GET /api/2.0/mlflow-artifacts/artifacts/<root>/<rel>` → the bytes
 * - upload: `PUT` the same path with the bytes (Content-Type from the file name)
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TrackingConfigError, UnsafeArtifactPathError } from '../errors.js';
import { errorFromResponse } from '../http/response-errors.js';
import { readBody, type HttpClient } from '../http/transport.js';
import { toFileInfo, obj } from '../rest/wire.js';
import type { ArtifactRepository } from '../store.js';
import type { FileInfo } from '../types.js';
import { hashingStream } from './local-repository.js';
import { joinArtifactPath, safeRelativePath, safeSegment } from './safe-paths.js';

const ENDPOINT = '/mlflow-artifacts/artifacts';
const MAX_LISTING_BYTES = 256 * 1024 * 1024;

/** Python's `mimetypes.guess_type` for the files models hold; anything else is binary. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain',
  '.json': 'application/json',
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.py': 'text/x-python',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
};

export function contentTypeForUpload(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The API base (`http://host/prefix/api/2.0`) and the root path inside the artifact store for an artifact URI. */
export function splitProxyUri(uri: string, trackingBase: URL): { apiBase: URL; root: string } {
  let apiBase: URL;
  let path: string;
  if (uri.startsWith('mlflow-artifacts:')) {
    const rest = uri.slice('mlflow-artifacts:'.length);
    const m = /^\/\/([^/]*)(.*)$/.exec(rest);
    if (m && m[1]) {
      // mlflow-artifacts://host:port/path: that server, with the tracking URI's scheme
      apiBase = new URL(`${trackingBase.protocol}//${m[1]}/api/2.0`);
      path = m[2] ?? '';
    } else {
      apiBase = new URL(`${trackingBase.href.replace(/\/+$/, '')}/api/2.0`);
      path = m ? (m[2] ?? '') : rest;
    }
  } else if (/^https?:\/\//i.test(uri)) {
    const at = uri.indexOf(ENDPOINT);
    if (at < 0) throw new TrackingConfigError(`artifact URI ${uri} is not an MLflow artifact proxy URI (…${ENDPOINT}/…)`);
    apiBase = new URL(uri.slice(0, at));
    path = uri.slice(at + ENDPOINT.length);
  } else {
    throw new TrackingConfigError(`artifact URI ${uri} is not served by the artifact proxy`);
  }
  // repeated slashes collapse, as MLflow's resolve_uri does
  const segs = path.split('/').filter(Boolean);
  const root = segs.length ? safeRelativePath(segs.join('/'), `artifact URI ${uri}`) : '';
  return { apiBase, root };
}

function encodePath(p: string): string {
  return p
    .split('/')
    .filter(Boolean)
    .map((s) => encodeURIComponent(s))
    .join('/');
}

export class HttpArtifactRepository implements ArtifactRepository {
  private readonly apiBase: URL;
  private readonly root: string;

  constructor(
    readonly uri: string,
    private readonly http: HttpClient,
    trackingBase: URL,
  ) {
    ({ apiBase: this.apiBase, root: this.root } = splitProxyUri(uri, trackingBase));
  }

  private fileUrl(rel: string): URL {
    return new URL(`${this.apiBase.href.replace(/\/+$/, '')}${ENDPOINT}/${encodePath(joinArtifactPath(this.root, rel))}`);
  }

  async list(relPath = ''): Promise<FileInfo[]> {
    const rel = safeRelativePath(relPath, this.uri);
    const url = new URL(`${this.apiBase.href.replace(/\/+$/, '')}${ENDPOINT}`);
    url.searchParams.set('path', joinArtifactPath(this.root, rel));
    const endpoint = `GET ${url.pathname}`;
    const body = await this.http.request({ method: 'GET', url }, async (res) => {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(res, endpoint, this.apiBase.origin);
      return readBody(res.stream, MAX_LISTING_BYTES);
    });
    let files: unknown;
    try {
      files = obj(JSON.parse(body.toString('utf8') || '{}')).files;
    } catch {
      throw new UnsafeArtifactPathError(`${this.uri}: the artifact listing of ${JSON.stringify(rel || '/')} is not JSON`);
    }
    const out: FileInfo[] = [];
    for (const f of Array.isArray(files) ? files : []) {
      const info = toFileInfo(f);
      // the proxy lists basenames; anything else (a/b, ../x, /etc) is refused
      const name = safeSegment(info.path, `${this.uri} listing of ${JSON.stringify(rel || '/')}`);
      out.push({ ...info, path: joinArtifactPath(rel, name) });
    }
    return out;
  }

  async downloadFile(relPath: string, destFile: string): Promise<{ size: number; sha256: string }> {
    const rel = safeRelativePath(relPath, this.uri);
    const url = this.fileUrl(rel);
    await mkdir(dirname(destFile), { recursive: true });
    return this.http.request({ method: 'GET', url }, async (res) => {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(res, `GET ${url.pathname}`, this.apiBase.origin);
      const h = hashingStream();
      try {
        // a retry after a reset mid-body starts the file over
        await pipeline(res.stream, h.stream, createWriteStream(destFile, { flags: 'wx' }));
      } catch (e) {
        await rm(destFile, { force: true });
        throw e;
      }
      return h.result();
    });
  }

  async uploadFile(localFile: string, relPath: string): Promise<void> {
    const rel = safeRelativePath(relPath, this.uri);
    const url = this.fileUrl(rel);
    const { size } = await stat(localFile);
    await this.http.request(
      {
        method: 'PUT',
        url,
        headers: { 'Content-Type': contentTypeForUpload(rel) },
        body: { open: () => createReadStream(localFile), length: size },
      },
      async (res) => {
        if (res.status < 200 || res.status >= 300) throw await errorFromResponse(res, `PUT ${url.pathname}`, this.apiBase.origin);
        await readBody(res.stream, 1024 * 1024);
      },
    );
  }
}
