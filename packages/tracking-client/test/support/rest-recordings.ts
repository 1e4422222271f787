/**
 * The request/response pairs recorded from a real MLflow 3.5 tracking server
 * (shared/reference/mlflow-tracking-rest.md), parsed: method, path, request body and content
 * type, response status, content type and body.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REST_REFERENCE = fileURLToPath(new URL('../../../../../shared/reference/mlflow-tracking-rest.md', import.meta.url));

export interface Recording {
  readonly n: number;
  readonly title: string;
  readonly method: string;
  readonly path: string;
  readonly requestContentType?: string;
  readonly requestBody?: Buffer;
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** A fenced block's text; `(file ends with a newline)` / `(body ends with a newline)` markers become a final newline. */
function blockText(lines: string[]): string {
  const last = lines[lines.length - 1];
  if (last && /^\((file|body) ends with a newline\)$/.test(last)) return `${lines.slice(0, -1).join('\n')}\n`;
  return lines.join('\n');
}

/** The fenced blocks of a section, with the line that introduces each. */
function blocks(section: string[]): { intro: string; lang: string; text: string }[] {
  const out: { intro: string; lang: string; text: string }[] = [];
  let intro = '';
  for (let i = 0; i < section.length; i++) {
    const line = section[i]!;
    const fence = /^```(\w*)$/.exec(line);
    if (fence) {
      const body: string[] = [];
      for (i++; i < section.length && section[i] !== '```'; i++) body.push(section[i]!);
      out.push({ intro, lang: fence[1] ?? '', text: blockText(body) });
    } else if (line.trim()) intro = line;
  }
  return out;
}

export function loadRecordings(file = REST_REFERENCE): Recording[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Recording[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = /^### (\d+) (.*)$/.exec(lines[i]!);
    if (!head) continue;
    let end = i + 1;
    while (end < lines.length && !/^##/.test(lines[end]!)) end++;
    const section = lines.slice(i + 1, end);
    const req = section.map((l) => /^\*\*Request:\*\* `(\w+) ([^`]+)`/.exec(l)).find(Boolean);
    const res = section.map((l) => /^\*\*Response:\*\* `HTTP\/1\.1 (\d+)[^`]*` · content-type `([^`]+)`/.exec(l)).find(Boolean);
    if (!req || !res) throw new Error(`recording ${head[1]}: no request or response line`);
    const respIdx = section.findIndex((l) => l.startsWith('**Response:**'));
    const before = blocks(section.slice(0, respIdx));
    const after = blocks(section.slice(respIdx));
    const reqBlock = before.find((b) => b.intro.startsWith('Request body'));
    const reqType = reqBlock ? /Content-Type: ([^`)]+)/.exec(reqBlock.intro)?.[1] : undefined;
    // the response body: "Exact bytes" when given, else the first block after the response line that is not the headers
    const exact = after.find((b) => b.intro.startsWith('Exact bytes') || b.intro.startsWith('Body, exact bytes'));
    const bodyBlock = exact ?? after.find((b) => b.lang !== 'http');
    out.push({
      n: Number(head[1]),
      title: head[2]!,
      method: req[1]!,
      path: req[2]!,
      ...(reqType ? { requestContentType: reqType } : {}),
      ...(reqBlock ? { requestBody: Buffer.from(reqBlock.text, 'utf8') } : {}),
      status: Number(res[1]),
      contentType: res[2]!,
      body: bodyBlock?.text ?? '',
    });
    i = end - 1;
  }
  return out;
}
