/**
 * Hardened YAML loader that returns what PyYAML's `yaml.safe_load` returns for the files MLflow
 * writes (MLmodel, conda.yaml, python_env.yaml).
 *
 * Parsing is done by the `yaml` package (CST parser + composer with the failsafe schema, so every
 * scalar arrives as its raw string plus its style); typing of plain scalars is done here with
 * PyYAML's YAML 1.1 implicit resolvers, so `yes`/`on` are booleans, `012` is octal, `1:20` is 80,
 * `3.11.2` stays a string, and so on.
 *
 * Deliberate differences from PyYAML:
 * - timestamps (`2024-01-01`, `2024-10-29 07:39:02.5`) load as strings: there are no Python
 *   dates here, and keeping the text keeps it intact;
 * - duplicate keys, anchors/aliases, merge keys, any tag outside the core schema, multiple
 *   documents and non-string keys are rejected instead of being accepted or silently changed;
 * - integral floats load as {@link PyFloat} so `1.0` stays a float, and integers beyond
 *   `Number.MAX_SAFE_INTEGER` load as `bigint`.
 */
import { Composer, LineCounter, Parser, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { CST, Document, Node as YamlNode, Scalar } from 'yaml';
import { YamlError } from '../errors.js';
import { PyFloat } from '../pyjson.js';

// ---------------------------------------------------------------------------------------------
// PyYAML's implicit resolvers (resolver.py, YAML 1.1). Python's `re.X` drops the whitespace
// written inside those patterns, which is reflected here. Python's `$` also matches before a
// final "\n"; that never matters because a scalar ending in a line break is never plain.

/** The tag PyYAML's resolver gives a plain (unquoted, untagged) scalar. */
export type PlainTag = 'bool' | 'float' | 'int' | 'merge' | 'null' | 'timestamp' | 'value' | 'str';

const BOOL_RE = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT_RE =
  /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT_RE = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL_RE = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP_RE =
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/;

/** Resolve a plain scalar like PyYAML (first match in PyYAML's registration order wins). */
export function resolvePlainTag(text: string): PlainTag {
  if (BOOL_RE.test(text)) return 'bool';
  if (FLOAT_RE.test(text)) return 'float';
  if (INT_RE.test(text)) return 'int';
  if (text === '<<') return 'merge';
  if (NULL_RE.test(text)) return 'null';
  if (TIMESTAMP_RE.test(text)) return 'timestamp';
  if (text === '=') return 'value';
  return 'str';
}

/** PyYAML's construct_yaml_int: `_` ignored, `0b`/`0x`/leading-`0` (octal) prefixes, base 60. */
function constructInt(text: string): number | bigint | undefined {
  let s = text.replace(/_/g, '');
  let negative = false;
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  let n: bigint;
  if (s.includes(':')) {
    n = s.split(':').reduce((acc, part) => acc * 60n + BigInt(part), 0n);
  } else if (s === '0') {
    n = 0n;
  } else if (/^0b[01]+$/.test(s) || /^0x[0-9a-fA-F]+$/.test(s)) {
    n = BigInt(s);
  } else if (/^0[0-7]+$/.test(s)) {
    n = BigInt(`0o${s.slice(1)}`);
  } else if (/^[0-9]+$/.test(s)) {
    n = BigInt(s);
  } else {
    return undefined; // e.g. `0x_`, which PyYAML also fails to construct
  }
  if (negative) n = -n;
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** PyYAML's construct_yaml_float, wrapping integral values in {@link PyFloat}. */
function constructFloat(text: string): number | PyFloat {
  let s = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  let value: number;
  if (s === '.inf') value = Infinity;
  else if (s === '.nan') value = NaN;
  else if (s.includes(':')) value = s.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  else value = Number(s);
  value *= sign;
  return Number.isInteger(value) ? new PyFloat(value) : value;
}

// ---------------------------------------------------------------------------------------------

export interface LoadYamlOptions {
  /** File name used in error messages. */
  file?: string;
  /** Reject documents whose top-level value is not a mapping (default true). */
  requireMapping?: boolean;
  /** Maximum nesting depth of collections (default 100). */
  maxDepth?: number;
  /** Maximum input size in bytes, UTF-8 (default 10 MiB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_DEPTH = 100;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

const CORE_TAG = 'tag:yaml.org,2002:';
const ALIAS_HINT = 'MLflow never writes YAML anchors or aliases, and expanding them is how "billion laughs" attacks exhaust memory, so they are rejected';

function shortTag(tag: string): string {
  return tag.startsWith(CORE_TAG) ? `!!${tag.slice(CORE_TAG.length)}` : tag;
}

function withArticle(noun: string): string {
  return noun === 'null' ? 'null' : `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof PyFloat) return 'float';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'mapping' : typeof value;
}

/**
 * Parse one YAML document the way PyYAML's `safe_load` would, with the restrictions listed in
 * the module comment. Throws {@link YamlError} with file, line and column on any problem.
 */
export function loadYaml(text: string, opts: LoadYamlOptions = {}): unknown {
  return new Loader(text, opts).load();
}

class Loader {
  private readonly lines = new LineCounter();
  private readonly file: string | undefined;
  private readonly maxDepth: number;

  constructor(
    private readonly text: string,
    private readonly opts: LoadYamlOptions,
  ) {
    this.file = opts.file;
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  load(): unknown {
    const maxBytes = this.opts.maxBytes ?? DEFAULT_MAX_BYTES;
    // Cheap bound first (a UTF-16 unit is at least one UTF-8 byte), then the exact size.
    if (this.text.length > maxBytes || Buffer.byteLength(this.text, 'utf8') > maxBytes) {
      throw this.error(`file is too large (${Buffer.byteLength(this.text, 'utf8')} bytes; the limit is ${maxBytes} bytes)`);
    }
    // YAML 1.1 (PyYAML) also breaks lines at NEL, LS and PS; the `yaml` lexer (YAML 1.2) does not.
    // PyYAML reads a raw NEL exactly like "\n", so substituting it keeps every offset and value.
    // A raw LS/PS would be kept in the value by PyYAML, which cannot be mimicked: reject it
    // (PyYAML only writes them raw with allow_unicode=True; MLflow's files escape them).
    const source = this.text.replace(/\x85/g, '\n');
    this.lines.addNewLine(0);
    for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) this.lines.addNewLine(i + 1);
    const lsps = /[\u2028\u2029]/.exec(this.text);
    if (lsps) {
      const name = lsps[0] === '\u2028' ? 'U+2028 LINE SEPARATOR' : 'U+2029 PARAGRAPH SEPARATOR';
      throw this.error(
        `a raw ${name} character is not supported (YAML 1.1 treats it as a line break); write it escaped in a double-quoted string ("\\${lsps[0] === '\u2028' ? 'L' : 'P'}")`,
        lsps.index,
      );
    }
    const tokens = Array.from(new Parser().parse(source));
    // The composer recurses once per nesting level: bound the depth on the (iteratively walked)
    // CST before composing, so deep input fails with a clear error instead of a stack overflow.
    this.checkDepth(tokens);
    const docs = Array.from(new Composer({ version: '1.1', schema: 'failsafe', uniqueKeys: false }).compose(tokens));
    for (const doc of docs) {
      const err = doc.errors[0];
      if (err) {
        const where = this.text.slice(err.pos[0]).match(/^[^\n]*/)?.[0] ?? '';
        const detail = err.message.replace(/ at line \d+, column \d+[\s\S]*$/, '');
        const excerpt = where.trim() ? ` (near ${JSON.stringify(where.slice(0, 40))})` : '';
        throw this.error(`invalid YAML syntax: ${detail}${excerpt}`, err.pos[0], undefined, err);
      }
    }
    if (docs.length > 1) {
      throw this.error('the file contains more than one YAML document (a second one starts here); only a single document is accepted', docs[1]?.range[0] ?? 0);
    }
    const doc = docs[0];
    if (!doc || isEmptyDocument(doc)) throw this.error('file is empty (it contains no YAML document)');
    const value = this.convert(doc.contents, 1, '');
    if ((this.opts.requireMapping ?? true) && (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof PyFloat)) {
      throw this.error(`the top-level value must be a mapping (key: value pairs), but it is ${withArticle(typeName(value))}`, doc.contents?.range?.[0] ?? 0);
    }
    return value;
  }

  private checkDepth(tokens: CST.Token[]): void {
    const stack: Array<{ token: CST.Token; depth: number }> = [];
    for (const token of tokens) if (token.type === 'document' && token.value) stack.push({ token: token.value, depth: 1 });
    for (let entry = stack.pop(); entry; entry = stack.pop()) {
      const { token, depth } = entry;
      if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
      if (depth > this.maxDepth) throw this.error(`nesting is too deep (more than ${this.maxDepth} levels of mappings/lists)`, token.offset);
      for (const item of token.items) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }

  private convert(node: YamlNode | null | undefined, depth: number, path: string): unknown {
    if (node === null || node === undefined) return null; // e.g. `key:` with nothing after it
    const offset = node.range?.[0] ?? 0;
    if (isAlias(node)) {
      throw this.error(`alias *${node.source} is not supported: ${ALIAS_HINT}`, offset, path);
    }
    if (node.anchor) {
      throw this.error(`anchor &${node.anchor} is not supported: ${ALIAS_HINT}`, this.propOffset(`&${node.anchor}`, offset), path);
    }
    if (isScalar(node)) return this.scalar(node, path);
    if (depth > this.maxDepth) throw this.error(`nesting is too deep (more than ${this.maxDepth} levels of mappings/lists)`, offset, path);
    if (isSeq(node)) {
      this.checkCollectionTag(node.tag, 'seq', offset, path);
      return node.items.map((item, i) => {
        const itemPath = `${path}[${i}]`;
        // `[a: 1]`: a single-pair mapping inside a flow sequence.
        if (isPair(item)) return this.mapping([item], depth + 1, itemPath);
        return this.convert(item as YamlNode, depth + 1, itemPath);
      });
    }
    if (isMap(node)) {
      this.checkCollectionTag(node.tag, 'map', offset, path);
      return this.mapping(node.items, depth, path);
    }
    throw this.error('unsupported YAML node', offset, path);
  }

  private mapping(pairs: Array<{ key: unknown; value: unknown }>, depth: number, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    for (const pair of pairs) {
      const keyNode = pair.key as YamlNode | null;
      const keyOffset = keyNode?.range?.[0] ?? 0;
      if (keyNode && !isScalar(keyNode) && !isAlias(keyNode)) {
        throw this.error('a mapping key must be a string, but this one is a list or mapping', keyOffset, path);
      }
      if (keyNode && isScalar(keyNode) && keyNode.type === 'PLAIN' && !keyNode.tag && keyNode.source === '<<') {
        throw this.error('merge keys (<<) are not supported; write the keys out explicitly', keyOffset, path);
      }
      const key = this.convert(keyNode, depth + 1, path);
      if (typeof key !== 'string') {
        const src = keyNode && isScalar(keyNode) ? String(keyNode.source) : '';
        throw this.error(
          `mapping key ${src || '(empty)'} is read as ${withArticle(typeName(key))}, but only string keys are supported; quote it ('${src}') to make it a string`,
          keyOffset,
          path,
        );
      }
      const childPath = path ? `${path}.${key}` : key;
      const firstLine = seen.get(key);
      if (firstLine !== undefined) {
        throw this.error(`duplicate key ${JSON.stringify(key)} (first defined on line ${firstLine})`, keyOffset, path);
      }
      seen.set(key, this.lines.linePos(keyOffset).line);
      const value = this.convert(pair.value as YamlNode | null, depth + 1, childPath);
      // defineProperty so that a `__proto__` key is stored as data, never as a prototype.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  private checkCollectionTag(tag: string | undefined, kind: 'seq' | 'map', offset: number, path: string): void {
    if (tag !== undefined && tag !== CORE_TAG + kind) this.unsupportedTag(tag, offset, path);
  }

  /** Where a node property (`&anchor`, `!tag`) written just before the node at `offset` starts. */
  private propOffset(prop: string, offset: number): number {
    const at = this.text.lastIndexOf(prop, offset);
    return at >= 0 ? at : offset;
  }

  private unsupportedTag(tag: string, offset: number, path: string): never {
    offset = this.propOffset(shortTag(tag), offset);
    throw this.error(
      `tag ${shortTag(tag)} is not supported: only plain data (mappings, lists, strings, numbers, booleans, null) is accepted, and tags such as !!python/object are unsafe to load`,
      offset,
      path,
    );
  }

  private scalar(node: Scalar, path: string): unknown {
    const offset = node.range?.[0] ?? 0;
    const text = String(node.value);
    let tag: PlainTag;
    if (node.tag === undefined) {
      // Only plain scalars are resolved; quoted and block scalars are always strings.
      tag = node.type === 'PLAIN' ? resolvePlainTag(text) : 'str';
    } else if (node.tag === CORE_TAG + 'str') {
      tag = 'str';
    } else {
      const wanted = node.tag.slice(CORE_TAG.length);
      if (!node.tag.startsWith(CORE_TAG) || !['int', 'float', 'bool', 'null'].includes(wanted)) this.unsupportedTag(node.tag, offset, path);
      tag = resolvePlainTag(text);
      // `!!float 1` is a float in PyYAML: accept an int-looking value for an explicit !!float.
      if (wanted === 'float' && tag === 'int') tag = 'float';
      if (tag !== wanted) throw this.error(`${JSON.stringify(text)} is not a valid ${shortTag(node.tag)} value`, offset, path);
    }
    switch (tag) {
      case 'null':
        return null;
      case 'bool':
        return /^(?:yes|true|on)$/i.test(text);
      case 'int': {
        const n = constructInt(text);
        if (n === undefined) throw this.error(`${JSON.stringify(text)} looks like an integer but has no digits`, offset, path);
        return n;
      }
      case 'float':
        return constructFloat(text);
      case 'merge':
        throw this.error('merge keys (<<) are not supported; write the keys out explicitly', offset, path);
      case 'value':
        throw this.error(`the unquoted value "=" is YAML 1.1's !!value, which PyYAML cannot load; quote it ('=') to make it a string`, offset, path);
      case 'timestamp': // kept as text: we have no Python datetime (see the module comment)
      case 'str':
        return text;
    }
  }

  private error(message: string, offset?: number, keyPath?: string, cause?: unknown): YamlError {
    let where = '';
    if (offset !== undefined) {
      const { line, col } = this.lines.linePos(offset);
      where = `line ${line}, column ${col}: `;
    }
    return new YamlError(where + message, { file: this.file, keyPath: keyPath || undefined, cause });
  }
}

function isEmptyDocument(doc: Document.Parsed): boolean {
  const c = doc.contents;
  return c === null || (isScalar(c) && c.type === 'PLAIN' && c.tag === undefined && c.source === '' && !c.anchor);
}
