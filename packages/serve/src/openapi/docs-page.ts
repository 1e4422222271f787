/**
 * The /docs page: swagger-ui rendering /openapi.json, served entirely by this server (no CDN).
 * swagger-ui's files come from the `swagger-ui-dist` package (a whitelist of them); our init code is
 * a separate script file, so the page runs under a strict Content-Security-Policy (no inline script).
 * All URLs are relative to /docs, so the page also works behind a path-prefixing proxy.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Sent with the page: scripts and styles from this origin only (swagger-ui sets inline styles). */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The files under /docs/assets/ and their content types. */
const VENDOR_FILES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};
export const INIT_SCRIPT_NAME = 'init.js';

/** Starts swagger-ui on the page once the bundle has loaded; the spec URL is relative to the page. */
export const INIT_SCRIPT = `'use strict';
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('openapi.json', document.baseURI).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    validatorUrl: null,
    displayRequestDuration: true,
    persistAuthorization: false,
  });
});
`;

/** The HTML of /docs. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlmodel API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" sizes="32x32" href="docs/assets/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="docs/assets/favicon-16x16.png">
</head>
<body>
<noscript>This page needs JavaScript; the API description itself is at <a href="openapi.json">openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/${INIT_SCRIPT_NAME}"></script>
</body>
</html>
`;

export interface DocsAsset {
  readonly contentType: string;
  readonly body: Buffer;
  /** A strong validator of the content. */
  readonly etag: string;
}

const etagOf = (body: Buffer): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

/** The directory of the installed swagger-ui-dist package. */
export function swaggerUiDistDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/** Whether `name` is one of the files /docs/assets/ serves. */
export function isDocsAsset(name: string): boolean {
  return name === INIT_SCRIPT_NAME || Object.hasOwn(VENDOR_FILES, name);
}

/** Reads each whitelisted asset once and keeps it in memory. */
export class DocsAssets {
  private readonly cache = new Map<string, Promise<DocsAsset>>();

  constructor(private readonly dir: () => string = swaggerUiDistDir) {}

  /** The asset, or null for a name outside the whitelist. */
  get(name: string): Promise<DocsAsset> | null {
    if (!isDocsAsset(name)) return null;
    let p = this.cache.get(name);
    if (!p) {
      p = this.load(name);
      p.catch(() => this.cache.delete(name));
      this.cache.set(name, p);
    }
    return p;
  }

  private async load(name: string): Promise<DocsAsset> {
    if (name === INIT_SCRIPT_NAME) {
      const body = Buffer.from(INIT_SCRIPT);
      return { contentType: 'text/javascript; charset=utf-8', body, etag: etagOf(body) };
    }
    const body = await readFile(join(this.dir(), name));
    return { contentType: VENDOR_FILES[name]!, body, etag: etagOf(body) };
  }
}
