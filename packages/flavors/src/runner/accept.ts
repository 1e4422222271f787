import { CONTENT_TYPE_ARROW_STREAM } from '@mlmodel/format';

/**
 * Whether the client asked for Arrow IPC back: its Accept header names the Arrow stream type with
 * a quality at least that of JSON. `*\/*` alone means JSON, as MLflow always answers JSON.
 */
export function wantsArrow(accept: string | undefined): boolean {
  if (!accept || !accept.includes(CONTENT_TYPE_ARROW_STREAM)) return false;
  let arrowQ = 0;
  let jsonQ = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === CONTENT_TYPE_ARROW_STREAM) arrowQ = Math.max(arrowQ, q);
    else if (type === 'application/json') jsonQ = Math.max(jsonQ, q);
  }
  return arrowQ > 0 && arrowQ >= jsonQ;
}
