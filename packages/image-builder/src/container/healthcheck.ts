/**
 * The image's HEALTHCHECK: GET /ping on the port the entrypoint serves on; exit 0 when it says
 * 200 within 2 s (SageMaker's ping timeout), else 1.
 */
import { containerPort } from './serve-args.js';

const url = `http://127.0.0.1:${containerPort(process.env)}/ping`;
try {
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await r.arrayBuffer();
  process.exitCode = r.status === 200 ? 0 : 1;
} catch {
  process.exitCode = 1;
}
