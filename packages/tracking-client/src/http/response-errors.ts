/** A non-2xx answer from the tracking server as a typed error (MLflow's JSON error body, or a proxy's/Flask's page). */
import { apiError, type MlflowApiError } from '../errors.js';
import { readBody, type HttpResponse } from './transport.js';

const MAX_ERROR_BODY = 1024 * 1024;

function textSnippet(body: Buffer, contentType: string | undefined): string {
  const text = body.toString('utf8');
  if (contentType?.includes('html')) {
    // Flask's and proxies' error pages: the title and the first paragraph say it
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    const para = /<p>([^<]*)<\/p>/i.exec(text)?.[1]?.trim();
    return [title, para].filter(Boolean).join(': ') || text.replace(/<[^>]+>/g, ' ').trim();
  }
  return text.trim();
}

/** Read the error body and build the typed error for it. */
export async function errorFromResponse(res: HttpResponse, endpoint: string, source: string): Promise<MlflowApiError> {
  const body = await readBody(res.stream, MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
  const ctx = { status: res.status, endpoint, source };
  try {
    const d = JSON.parse(body.toString('utf8')) as { error_code?: unknown; message?: unknown };
    if (typeof d.error_code === 'string') return apiError(d.error_code, typeof d.message === 'string' ? d.message : '', ctx);
  } catch {
    // not JSON: a page from Flask (unknown endpoint), an auth proxy or a load balancer
  }
  const ct = res.headers['content-type'];
  const snippet = textSnippet(body, typeof ct === 'string' ? ct : undefined);
  if (res.status === 404) {
    return apiError(
      'ENDPOINT_NOT_FOUND',
      `the server has no ${endpoint.replace(/^\w+ /, '')} endpoint (${snippet || 'Not Found'}): is MLFLOW_TRACKING_URI an MLflow ≥ 3 tracking server (serving artifacts, for artifact calls)?`,
      ctx,
    );
  }
  if (res.status === 401 || res.status === 403) {
    return apiError(
      res.status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED',
      `${snippet || 'access refused'}: set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD`,
      ctx,
    );
  }
  return apiError(res.status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST', snippet || `HTTP ${res.status}`, ctx);
}
