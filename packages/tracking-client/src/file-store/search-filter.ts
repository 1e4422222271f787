/**
 * MLflow's search filter and order-by syntax, evaluated locally by the file store:
 * `metrics.rmse < 1 and params.alpha = '0.5'`, `name = 'model'`, `tags.team LIKE 'fix%'`,
 * `attributes.status IN ('FINISHED', 'FAILED')`. Clauses are joined with AND (MLflow has no OR).
 * Identifiers may be backquoted or double-quoted (`` params.`my key` ``).
 */
import { InvalidParameterError } from '../errors.js';

export type EntityType = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Clause {
  readonly type: EntityType;
  readonly key: string;
  readonly op: Operator;
  readonly value: string | number | readonly (string | number)[];
}

export interface OrderBy {
  readonly type: EntityType;
  readonly key: string;
  readonly ascending: boolean;
}

/** A value of an entity: the lookup the file store provides per run / model / version. */
export type Lookup = (type: EntityType, key: string) => string | number | undefined;

const TYPE_PREFIXES: Readonly<Record<string, EntityType>> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

function bad(filter: string, why: string): never {
  throw new InvalidParameterError('INVALID_PARAMETER_VALUE', `Invalid filter '${filter}': ${why}`, {
    status: 0,
    endpoint: 'search filter',
    source: 'file store',
  });
}

type Token = { kind: 'ident' | 'string' | 'number' | 'op' | 'punct' | 'word'; text: string };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let text = '';
      for (; j < s.length; j++) {
        if (s[j] === c) {
          if (s[j + 1] === c) {
            text += c;
            j++;
            continue;
          }
          break;
        }
        if (s[j] === '\\' && j + 1 < s.length) {
          text += s[++j];
          continue;
        }
        text += s[j];
      }
      if (j >= s.length) bad(s, `unterminated quote at ${i}`);
      // a double-quoted or backquoted name after a `type.` prefix is an identifier part
      out.push({ kind: c === "'" ? 'string' : 'ident', text });
      i = j + 1;
    } else if ('<>!='.includes(c)) {
      const two = s.slice(i, i + 2);
      const op = ['<=', '>=', '!=', '=='].includes(two) ? two : c;
      if (op === '!') bad(s, `unexpected '!' at ${i}`);
      out.push({ kind: 'op', text: op === '==' ? '=' : op });
      i += op.length;
    } else if ('(),'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else if (/[-+0-9.]/.test(c) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.test(s.slice(i)) && !/[A-Za-z_]/.test(s[i - 1] ?? ' ')) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(s.slice(i))!;
      out.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else {
      const m = /^[A-Za-z_][\w.]*/.exec(s.slice(i));
      if (!m) bad(s, `unexpected character ${JSON.stringify(c)} at ${i}`);
      out.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

/** `type.key` (the key possibly quoted as the next token) from the token stream. */
function identifier(tokens: Token[], pos: number, filter: string): { type: EntityType; key: string; next: number } {
  const t = tokens[pos];
  if (!t) bad(filter, 'expected an identifier');
  if (t.kind === 'ident') return { type: 'attribute', key: t.text, next: pos + 1 };
  if (t.kind !== 'word') bad(filter, `expected an identifier, got ${JSON.stringify(t.text)}`);
  const dot = t.text.indexOf('.');
  if (dot < 0) return { type: 'attribute', key: t.text, next: pos + 1 };
  const prefix = t.text.slice(0, dot).toLowerCase();
  const type = TYPE_PREFIXES[prefix];
  if (!type) bad(filter, `unknown entity type ${JSON.stringify(t.text.slice(0, dot))} (use metrics., params., tags. or attributes.)`);
  const rest = t.text.slice(dot + 1);
  if (rest === '') {
    const q = tokens[pos + 1];
    if (q?.kind !== 'ident') bad(filter, `expected a name after ${t.text}`);
    return { type, key: q.text, next: pos + 2 };
  }
  return { type, key: rest, next: pos + 1 };
}

function literal(t: Token | undefined, filter: string): string | number {
  if (!t) bad(filter, 'expected a value');
  if (t.kind === 'string') return t.text;
  if (t.kind === 'number') return Number(t.text);
  if (t.kind === 'ident') return t.text;
  bad(filter, `expected a value, got ${JSON.stringify(t.text)}`);
}

/** Parse a filter into AND-ed clauses (empty filter: none). */
export function parseFilter(filter: string | undefined): Clause[] {
  if (!filter || !filter.trim()) return [];
  const tokens = tokenize(filter);
  const clauses: Clause[] = [];
  let pos = 0;
  for (;;) {
    const id = identifier(tokens, pos, filter);
    pos = id.next;
    const t = tokens[pos];
    if (!t) bad(filter, 'expected a comparison operator');
    let op: Operator;
    if (t.kind === 'op') op = t.text as Operator;
    else if (t.kind === 'word' && ['LIKE', 'ILIKE', 'IN'].includes(t.text.toUpperCase())) op = t.text.toUpperCase() as Operator;
    else if (t.kind === 'word' && t.text.toUpperCase() === 'NOT' && tokens[pos + 1]?.text.toUpperCase() === 'IN') {
      op = 'NOT IN';
      pos++;
    } else bad(filter, `expected a comparison operator, got ${JSON.stringify(t.text)}`);
    pos++;
    let value: Clause['value'];
    if (op === 'IN' || op === 'NOT IN') {
      if (tokens[pos]?.text !== '(') bad(filter, `${op} needs a parenthesized list`);
      pos++;
      const items: (string | number)[] = [];
      for (;;) {
        items.push(literal(tokens[pos], filter));
        pos++;
        const sep = tokens[pos];
        pos++;
        if (sep?.text === ')') break;
        if (sep?.text !== ',') bad(filter, 'expected , or ) in a list');
      }
      value = items;
    } else {
      value = literal(tokens[pos], filter);
      pos++;
    }
    clauses.push({ type: id.type, key: id.key, op, value });
    if (pos >= tokens.length) break;
    const and = tokens[pos];
    if (and?.kind !== 'word' || and.text.toUpperCase() !== 'AND') bad(filter, `expected AND, got ${JSON.stringify(and?.text)} (OR is not supported by MLflow)`);
    pos++;
  }
  return clauses;
}

function likeRegex(pattern: string, caseInsensitive: boolean): RegExp {
  const re = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${re}$`, caseInsensitive ? 'is' : 's');
}

function compare(actual: string | number, op: Operator, expected: string | number): boolean {
  const numeric = typeof actual === 'number';
  const e = numeric ? Number(expected) : String(expected);
  const a = numeric ? actual : String(actual);
  switch (op) {
    case '=':
      return a === e;
    case '!=':
      return a !== e;
    case '<':
      return a < e;
    case '<=':
      return a <= e;
    case '>':
      return a > e;
    case '>=':
      return a >= e;
    case 'LIKE':
      return likeRegex(String(expected), false).test(String(actual));
    case 'ILIKE':
      return likeRegex(String(expected), true).test(String(actual));
    default:
      return false;
  }
}

/** Whether an entity passes every clause. A missing value fails every comparison (as in MLflow's SQL store). */
export function matches(clauses: readonly Clause[], lookup: Lookup): boolean {
  return clauses.every((c) => {
    const actual = lookup(c.type, c.key);
    if (actual === undefined) return false;
    if (c.op === 'IN' || c.op === 'NOT IN') {
      const list = c.value as readonly (string | number)[];
      const hit = list.some((v) => compare(actual, '=', v));
      return c.op === 'IN' ? hit : !hit;
    }
    return compare(actual, c.op, c.value as string | number);
  });
}

/** Parse `metrics.rmse DESC`, `attributes.start_time`, `` params.`a b` ASC ``. */
export function parseOrderBy(items: readonly string[] | undefined): OrderBy[] {
  return (items ?? []).map((item) => {
    const tokens = tokenize(item);
    const id = identifier(tokens, 0, item);
    const dir = tokens[id.next]?.text.toUpperCase();
    if (tokens.length > id.next + 1 || (dir !== undefined && dir !== 'ASC' && dir !== 'DESC')) bad(item, 'order_by is `<name> [ASC|DESC]`');
    return { type: id.type, key: id.key, ascending: dir !== 'DESC' };
  });
}

/** A comparator for `orderBy` (missing values last, as MLflow), then `tieBreak`. */
export function comparator<T>(orderBy: readonly OrderBy[], lookup: (item: T) => Lookup, tieBreak: (a: T, b: T) => number): (a: T, b: T) => number {
  return (a, b) => {
    for (const o of orderBy) {
      const x = lookup(a)(o.type, o.key);
      const y = lookup(b)(o.type, o.key);
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const d = x < y ? -1 : 1;
      return o.ascending ? d : -d;
    }
    return tieBreak(a, b);
  };
}

/** MLflow's page tokens: base64 of `{"offset": N}` (json.dumps spacing). */
export function pageToken(offset: number): string {
  return Buffer.from(`{"offset": ${offset}}`, 'utf8').toString('base64');
}

export function offsetOfToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const d = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof d.offset === 'number' && Number.isInteger(d.offset) && d.offset >= 0) return d.offset;
  } catch {
    // fall through
  }
  throw new InvalidParameterError('INVALID_PARAMETER_VALUE', `Invalid page token, could not base64-decode: ${token}`, {
    status: 0,
    endpoint: 'search',
    source: 'file store',
  });
}

/** One page of `items` from an offset token. */
export function paginate<T>(items: readonly T[], maxResults: number | undefined, token: string | undefined): { items: T[]; next_page_token?: string } {
  const offset = offsetOfToken(token);
  const n = maxResults ?? 1000;
  const slice = items.slice(offset, offset + n);
  return offset + n < items.length ? { items: slice, next_page_token: pageToken(offset + n) } : { items: slice };
}
