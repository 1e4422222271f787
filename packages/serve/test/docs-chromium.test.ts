/**
 * The /docs page in a real browser: Debian's headless Chromium loads it from a running server,
 * swagger-ui (served by the server itself, under its strict CSP) fetches /openapi.json and
 * renders the operations. Chromium is installed by scripts/test.sh; without it this test fails.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@mlmodel/serve';
import { fixtureSpec } from './support.js';

function findChromium(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'chromium');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Load `url` in headless Chromium and return the DOM after its scripts ran (and the page's fetches settled). */
function dumpDom(chromium: string, url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'mlmodel-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--no-default-browser-check',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=10000',
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(chromium, args, { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('/docs in headless Chromium', () => {
  const chromium = findChromium();
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ models: [fixtureSpec('iris_onnx')], port: 0, logLevel: 'silent', handleSignals: false, processMetrics: false, version: '4.5.6' });
    await s.ready;
  });
  afterAll(() => s?.close());

  it('renders the operations of /openapi.json with swagger-ui', async () => {
    if (!chromium) expect.fail("chromium is not installed: run scripts/test.sh (it installs Debian's chromium package), or apt-get install -y chromium");
    const csp = (await fetch(`${s.url}/docs`)).headers.get('content-security-policy') ?? '';
    const dom = await dumpDom(chromium, `${s.url}/docs`);
    // swagger-ui ran, fetched the spec and rendered it (booleans: a failure should not print the whole DOM)
    const has = (needle: string | RegExp): boolean => (typeof needle === 'string' ? dom.includes(needle) : needle.test(dom));
    expect(has('id="swagger-ui"'), 'the page').toBe(true);
    expect(has('Failed to load API definition'), 'swagger-ui reports a load failure').toBe(false);
    expect(has(/class="title">mlmodel<span><small><pre class="version"> 4.5.6 </), 'the info title and version').toBe(true);
    expect(has('id="operations-MLflow_scoring-invocations"'), 'the /invocations operation').toBe(true);
    expect(has('data-path="/invocations"'), 'the /invocations path').toBe(true);
    expect(has('data-path="/v2/models/iris_onnx/infer"'), 'the OIP infer path').toBe(true);
    expect(has('id="operations-Open_Inference_Protocol_v2-oip_infer_iris_onnx"'), 'the OIP infer operation').toBe(true);
    expect(has('data-path="/v2/health/ready"'), 'the readiness path').toBe(true);
    expect(has('mlflow.iris_onnx.request'), 'the request schema').toBe(true);
    // all of that ran under the page's Content-Security-Policy (script-src 'self': no inline script, no eval)
    expect(csp).toContain("script-src 'self'");
  });
});
