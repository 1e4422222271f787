/**
 * The fake MLflow server the REST tests run against answers like the real one: every recorded
 * request/response pair (shared/reference/mlflow-tracking-rest.md, 62 of them, MLflow 3.5) is
 * replayed in order against the fake, and status, content type and body are compared. JSON bodies
 * are compared as data, with server-generated timestamps masked; the fake is given the recorded
 * run and model ids. Messages that embed SQL or the server's disk path are compared up to that part.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMlflowServer } from './support/fake-mlflow-server.js';
import { loadRecordings, type Recording } from './support/rest-recordings.js';

const recordings = loadRecordings();
const fake = new FakeMlflowServer({
  runIds: ['86fb218f9ab74ee6896fecd0bbad43dc', 'f852ea531898405da76bbd126e543ba4'],
  modelIds: ['m-ffb48969374847d7bcb3fb406a6c9942'],
});
beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await fake.stop();
});

const SERVER_TIMES = new Set([
  'creation_time',
  'last_update_time',
  'creation_timestamp_ms',
  'last_updated_timestamp_ms',
  'creation_timestamp',
  'last_updated_timestamp',
]);

/** Server-generated times masked (the recording's clock is not ours). */
function mask(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(mask);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SERVER_TIMES.has(k) && typeof x === 'number' ? '<server time>' : mask(x)]));
  return v;
}

/** Messages that carry SQLAlchemy text or the server's artifact directory: compared up to there. */
const MESSAGE_PREFIX: Record<number, string> = {
  6: 'Experiment(name=rest-exp) already exists.',
  27: 'The following failures occurred while downloading one or more artifacts from ',
  56: '',
};

/** The 1001-metric body (#10) is abbreviated in the reference; it is rebuilt as described. */
function requestBody(r: Recording): Buffer | undefined {
  if (r.n === 10) {
    const metrics = Array.from({ length: 1001 }, (_, i) => ({ key: `m${i}`, value: i, timestamp: 1700000000000, step: 0 }));
    return Buffer.from(JSON.stringify({ run_id: '86fb218f9ab74ee6896fecd0bbad43dc', metrics }));
  }
  return r.requestBody;
}

describe('fake MLflow server vs the recorded real MLflow 3.5 server', () => {
  it('the reference holds the 62 recordings', () => {
    expect(recordings.map((r) => r.n)).toEqual(Array.from({ length: 62 }, (_, i) => i + 1));
  });

  // sequential: later recordings depend on earlier ones (ids, logged values, uploads)
  for (const r of recordings) {
    it(`#${r.n} ${r.method} ${r.path.split('?')[0]} → ${r.status} (${r.title})`, async () => {
      const body = requestBody(r);
      const res = await fetch(`${fake.url}${r.path}`, {
        method: r.method,
        headers: r.requestContentType ? { 'Content-Type': r.requestContentType } : {},
        ...(body ? { body } : {}),
      });
      const text = await res.text();
      expect(res.status).toBe(r.status);
      expect(res.headers.get('content-type')).toBe(r.contentType);
      if (r.contentType !== 'application/json') {
        expect(text).toBe(r.body);
        return;
      }
      const got = JSON.parse(text) as Record<string, unknown>;
      const want = JSON.parse(r.body) as Record<string, unknown>;
      if (r.status >= 400 && r.n in MESSAGE_PREFIX) {
        expect(got.error_code).toBe(want.error_code);
        expect(String(got.message)).toMatch(new RegExp(`^${MESSAGE_PREFIX[r.n]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        expect(String(want.message).startsWith(MESSAGE_PREFIX[r.n]!)).toBe(true);
        return;
      }
      expect(mask(got)).toEqual(mask(want));
      if (r.status >= 400) {
        // error bodies are single-line json.dumps output, as MLflow writes them
        expect(text).not.toContain('\n');
        expect(text).toMatch(/^\{"error_code": "/);
      }
    });
  }
});
