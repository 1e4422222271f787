/**
 * YAML emitter that reproduces PyYAML 6's `yaml.safe_dump(data, default_flow_style=False)`
 * byte for byte (SafeRepresenter + Serializer + Emitter with width 80, indent 2,
 * allow_unicode=False), which is how MLflow writes MLmodel, conda.yaml and python_env.yaml.
 *
 * The writer keeps the same state PyYAML's Emitter keeps (column, "last char was whitespace",
 * "last char was indentation", current indent and its stack) and updates it with the same rules,
 * because the exact output (line folding, indentless sequences, `? ` keys) depends on it.
 *
 * Differences: PyYAML writes `&id001`/`*id001` for a list or dict that appears twice in the data;
 * here it is written out in full each time (our loader rejects aliases); cyclic data throws.
 * With `sortKeys: false`, plain objects list integer-like keys ("1", "10") first, as JS objects
 * always do; pass a `Map` to keep any insertion order.
 */
import { YamlError } from '../errors.js';
import { PyFloat, pyFloatRepr } from '../pyjson.js';
import { resolvePlainTag } from './load.js';

export interface DumpYamlOptions {
  /** Sort mapping keys by code point, like PyYAML's default `sort_keys=True` (default true). */
  sortKeys?: boolean;
}

/** `yaml.safe_dump(value, default_flow_style=False, sort_keys=sortKeys)`. */
export function dumpYaml(value: unknown, opts: DumpYamlOptions = {}): string {
  return new Writer(opts.sortKeys ?? true).document(value);
}

const BEST_WIDTH = 80;
const BEST_INDENT = 2;
/** `len('!!str')`: check_simple_key counts the key's tag even though it is not written. */
const STR_TAG_LENGTH = 5;
/** Characters PyYAML treats as line breaks. */
const BREAKS = '\n\x85\u2028\u2029';
/** Characters PyYAML's analyzer counts as whitespace around indicators. */
const WHITESPACE_OR_END = '\0 \t\r\n\x85\u2028\u2029';

// ---------------------------------------------------------------------------------------------
// Representer: JS value -> scalar text or collection (SafeRepresenter).

type Represented =
  | { kind: 'scalar'; text: string; /** resolves to its own type when written plain (implicit[0]) */ plainOk: boolean }
  | { kind: 'seq'; items: unknown[] }
  | { kind: 'map'; entries: Array<[string, unknown]> };

/** represent_float: repr(x).lower(), `.0` added before `e` when there is no `.`; `.nan`, `.inf`. */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (x === Infinity) return '.inf';
  if (x === -Infinity) return '-.inf';
  const text = pyFloatRepr(x).toLowerCase();
  return !text.includes('.') && text.includes('e') ? text.replace('e', '.0e') : text;
}

/** Python's `sorted()` on str keys compares code points (JS's default sort compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done ? (cb.done ? 0 : -1) : 1;
    const d = (ca.value.codePointAt(0) ?? 0) - (cb.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------------
// Scalar analysis (Emitter.analyze_scalar, with allow_unicode=False).

interface Analysis {
  empty: boolean;
  multiline: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
}

function analyze(chars: string[]): Analysis {
  const n = chars.length;
  if (n === 0) return { empty: true, multiline: false, allowBlockPlain: true, allowSingleQuoted: true };
  let blockIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingOrTrailingWs = false;
  let breakSpace = false;
  let spaceBreak = false;
  // A scalar starting with a document marker cannot be plain.
  const head = chars.slice(0, 3).join('');
  if (head === '---' || head === '...') blockIndicators = true;
  let precededByWs = true;
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0; i < n; i++) {
    const ch = chars[i] as string;
    const followedByWs = i + 1 >= n || WHITESPACE_OR_END.includes(chars[i + 1] as string);
    if (i === 0) {
      // Leading indicators; `?`, `:` and `-` only when followed by whitespace (for block context).
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicators = true;
      if ((ch === '?' || ch === ':' || ch === '-') && followedByWs) blockIndicators = true;
    } else if ((ch === ':' && followedByWs) || (ch === '#' && precededByWs)) {
      // `: ` and ` #` inside the scalar (the other inner indicators only matter in flow context).
      blockIndicators = true;
    }
    const isBreak = BREAKS.includes(ch);
    if (isBreak) lineBreaks = true;
    // Anything but printable ASCII and "\n" needs escaping (allow_unicode=False).
    const cp = ch.codePointAt(0) ?? 0;
    if (!(ch === '\n' || (cp >= 0x20 && cp <= 0x7e))) special = true;
    if (ch === ' ') {
      if (i === 0 || i === n - 1) leadingOrTrailingWs = true;
      if (previousBreak) breakSpace = true;
    } else if (isBreak) {
      if (i === 0 || i === n - 1) leadingOrTrailingWs = true;
      if (previousSpace) spaceBreak = true;
    }
    previousSpace = ch === ' ';
    previousBreak = isBreak;
    precededByWs = WHITESPACE_OR_END.includes(ch);
  }
  return {
    empty: false,
    multiline: lineBreaks,
    // Plain needs: no leading/trailing whitespace, no break+space combinations, no special
    // characters, no line breaks (PyYAML never writes multi-line plain scalars), no indicators.
    allowBlockPlain: !leadingOrTrailingWs && !breakSpace && !spaceBreak && !special && !lineBreaks && !blockIndicators,
    // Single quotes cannot hold escapes nor a space at the start of a continuation line.
    allowSingleQuoted: !breakSpace && !spaceBreak && !special,
  };
}

/** ESCAPE_REPLACEMENTS of write_double_quoted. */
const NAMED_ESCAPES: Record<string, string> = {
  '\0': '0',
  '\x07': 'a',
  '\x08': 'b',
  '\t': 't',
  '\n': 'n',
  '\x0b': 'v',
  '\x0c': 'f',
  '\r': 'r',
  '\x1b': 'e',
  '"': '"',
  '\\': '\\',
  '\x85': 'N',
  '\xa0': '_',
  '\u2028': 'L',
  '\u2029': 'P',
};

function escapeChar(ch: string): string {
  const named = NAMED_ESCAPES[ch];
  if (named !== undefined) return `\\${named}`;
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase();
  if (cp <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\U${hex.padStart(8, '0')}`;
}

/** Characters write_double_quoted escapes when allow_unicode=False. */
function needsEscape(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  return ch === '"' || ch === '\\' || cp < 0x20 || cp > 0x7e;
}

// ---------------------------------------------------------------------------------------------

interface NodeContext {
  root?: boolean;
  mapping?: boolean;
  simpleKey?: boolean;
}

class Writer {
  private out = '';
  private column = 0;
  /** The last character written was whitespace (so an indicator needs no separating space). */
  private whitespace = true;
  /** Only indentation (and `-`, `?`, `:` indicators) has been written on this line so far. */
  private indention = true;
  /** A root plain scalar was written: the document needs an explicit `...` end. */
  private openEnded = false;
  private indent: number | null = null;
  private readonly indents: Array<number | null> = [];
  /** Collections being written, to detect cycles. */
  private readonly active = new Set<object>();

  constructor(private readonly sortKeys: boolean) {}

  document(value: unknown): string {
    // A first document is implicit (no `---`) for everything the SafeRepresenter produces.
    this.node(value, { root: true }, '');
    this.writeIndent(); // document end
    if (this.openEnded) {
      // Stream end after an open-ended (root plain scalar) document.
      this.writeIndicator('...', true);
      this.writeIndent();
    }
    return this.out;
  }

  // -- representer ------------------------------------------------------------------------------

  private represent(value: unknown, path: string): Represented {
    if (value === null || value === undefined) return { kind: 'scalar', text: 'null', plainOk: true };
    switch (typeof value) {
      case 'boolean':
        return { kind: 'scalar', text: value ? 'true' : 'false', plainOk: true };
      case 'bigint':
        return { kind: 'scalar', text: value.toString(), plainOk: true };
      case 'number':
        // Integral JS numbers are Python ints (BigInt avoids `1e+21` notation).
        return { kind: 'scalar', text: Number.isInteger(value) ? BigInt(value).toString() : formatFloat(value), plainOk: true };
      case 'string':
        // A string may be plain only if PyYAML's resolver would read it back as a string.
        return { kind: 'scalar', text: value, plainOk: resolvePlainTag(value) === 'str' };
      case 'object':
        if (value instanceof PyFloat) return { kind: 'scalar', text: formatFloat(value.value), plainOk: true };
        if (Array.isArray(value)) return { kind: 'seq', items: value };
        if (isPlainObject(value)) {
          const keys = Object.keys(value);
          if (this.sortKeys) keys.sort(compareCodePoints);
          return { kind: 'map', entries: keys.map((k) => [k, value[k]]) };
        }
        if (value instanceof Map) {
          // A Map keeps insertion order even for integer-like keys, which plain objects do not.
          const entries = [...(value as Map<unknown, unknown>).entries()].map(([k, v]): [string, unknown] => {
            if (typeof k !== 'string')
              throw new YamlError(`cannot represent a ${typeof k} mapping key as YAML (only string keys)`, { keyPath: path || undefined });
            return [k, v];
          });
          if (this.sortKeys) entries.sort((a, b) => compareCodePoints(a[0], b[0]));
          return { kind: 'map', entries };
        }
        throw new YamlError(
          `cannot represent a ${value.constructor?.name ?? 'object'} as YAML (only plain objects, Maps, arrays, strings, numbers, bigints, booleans, null and PyFloat)`,
          { keyPath: path || undefined },
        );
      default:
        throw new YamlError(`cannot represent a ${typeof value} as YAML`, { keyPath: path || undefined });
    }
  }

  // -- node handlers (Emitter.expect_node and friends) --------------------------------------------

  private node(value: unknown, ctx: NodeContext, path: string): void {
    const rep = this.represent(value, path);
    if (rep.kind === 'scalar') {
      this.increaseIndent(true, false);
      this.scalar(rep.text, rep.plainOk, ctx);
      this.indent = this.indents.pop() ?? null;
      return;
    }
    const container = value as object;
    if (this.active.has(container)) throw new YamlError('cannot represent cyclic data as YAML', { keyPath: path || undefined });
    this.active.add(container);
    if (rep.kind === 'seq') this.sequence(rep.items, ctx, path);
    else this.mapping(rep.entries, path);
    this.active.delete(container);
  }

  private sequence(items: unknown[], ctx: NodeContext, path: string): void {
    if (items.length === 0) {
      // Empty collections are written in flow style.
      this.writeIndicator('[', true, true);
      this.writeIndicator(']', false);
      return;
    }
    // A sequence that is a mapping value starting on a fresh line is "indentless": its `-` are
    // written at the mapping's own indent.
    this.increaseIndent(false, Boolean(ctx.mapping) && !this.indention);
    items.forEach((item, i) => {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.node(item, {}, `${path}[${i}]`);
    });
    this.indent = this.indents.pop() ?? null;
  }

  private mapping(entries: Array<[string, unknown]>, path: string): void {
    if (entries.length === 0) {
      this.writeIndicator('{', true, true);
      this.writeIndicator('}', false);
      return;
    }
    this.increaseIndent(false, false);
    for (const [key, value] of entries) {
      const childPath = path ? `${path}.${key}` : key;
      this.writeIndent();
      const chars = Array.from(key);
      const a = analyze(chars);
      // check_simple_key: `key: value` if the key is a non-empty single line and its length,
      // plus that of its (never written) prepared tag `!!str`, is below 128.
      if (STR_TAG_LENGTH + chars.length < 128 && !a.empty && !a.multiline) {
        this.node(key, { mapping: true, simpleKey: true }, childPath);
        this.writeIndicator(':', false);
        this.node(value, { mapping: true }, childPath);
      } else {
        // Long, empty or multi-line keys use the explicit form `? key` / `: value`.
        this.writeIndicator('?', true, false, true);
        this.node(key, { mapping: true }, childPath);
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
        this.node(value, { mapping: true }, childPath);
      }
    }
    this.indent = this.indents.pop() ?? null;
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent === null) this.indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.indent += BEST_INDENT;
  }

  /** choose_scalar_style + process_scalar. */
  private scalar(text: string, plainOk: boolean, ctx: NodeContext): void {
    const chars = Array.from(text);
    const a = analyze(chars);
    const simpleKey = Boolean(ctx.simpleKey);
    const split = !simpleKey; // simple keys are never folded
    if (plainOk && !(simpleKey && (a.empty || a.multiline)) && a.allowBlockPlain) {
      this.writePlain(chars, split, Boolean(ctx.root));
    } else if (a.allowSingleQuoted && !(simpleKey && a.multiline)) {
      this.writeSingleQuoted(chars, split);
    } else {
      this.writeDoubleQuoted(chars, split);
    }
  }

  // -- low-level writers ------------------------------------------------------------------------

  private write(data: string): void {
    // Everything written is ASCII (allow_unicode=False), so length == columns.
    this.out += data;
    this.column += data.length;
  }

  private writeIndicator(indicator: string, needWhitespace: boolean, whitespace = false, indention = false): void {
    this.write(this.whitespace || !needWhitespace ? indicator : ` ${indicator}`);
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
    this.openEnded = false;
  }

  private writeIndent(): void {
    const indent = this.indent ?? 0;
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.writeLineBreak();
    if (this.column < indent) {
      this.whitespace = true;
      this.write(' '.repeat(indent - this.column));
    }
  }

  private writeLineBreak(): void {
    this.out += '\n';
    this.whitespace = true;
    this.indention = true;
    this.column = 0;
  }

  /**
   * write_plain. A run of exactly one space is replaced by a line break when the column already
   * exceeds the width. (Line breaks never occur: multi-line strings are never plain.)
   */
  private writePlain(t: string[], split: boolean, root: boolean): void {
    if (root) this.openEnded = true;
    if (t.length === 0) return;
    if (!this.whitespace) this.write(' ');
    this.whitespace = false;
    this.indention = false;
    let spaces = false;
    let start = 0;
    for (let end = 0; end <= t.length; end++) {
      const ch = t[end];
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split) {
            this.writeIndent();
            this.whitespace = false;
            this.indention = false;
          } else {
            this.write(t.slice(start, end).join(''));
          }
          start = end;
        }
      } else if (ch === undefined || ch === ' ') {
        this.write(t.slice(start, end).join(''));
        start = end;
      }
      spaces = ch === ' ';
    }
  }

  /**
   * write_single_quoted. `'` is doubled; a single space (not first or last char) becomes a fold
   * when the column exceeds the width; a run of n line breaks is written as n+1 breaks (a lone
   * break inside single quotes would read back as a space) followed by indentation.
   */
  private writeSingleQuoted(t: string[], split: boolean): void {
    this.writeIndicator("'", true);
    let spaces = false;
    let breaks = false;
    let start = 0;
    const n = t.length;
    for (let end = 0; end <= n; end++) {
      const ch = t[end];
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split && start !== 0 && end !== n) this.writeIndent();
          else this.write(t.slice(start, end).join(''));
          start = end;
        }
      } else if (breaks) {
        if (ch === undefined || !BREAKS.includes(ch)) {
          if (t[start] === '\n') this.writeLineBreak();
          // Only "\n" can get here: the other breaks are non-ASCII and force double quotes.
          for (let i = start; i < end; i++) this.writeLineBreak();
          this.writeIndent();
          start = end;
        }
      } else if (ch === undefined || ch === ' ' || ch === "'" || BREAKS.includes(ch)) {
        if (start < end) {
          this.write(t.slice(start, end).join(''));
          start = end;
        }
      }
      if (ch === "'") {
        this.write("''");
        start = end + 1;
      }
      if (ch !== undefined) {
        spaces = ch === ' ';
        breaks = BREAKS.includes(ch);
      }
    }
    this.writeIndicator("'", false);
  }

  /**
   * write_double_quoted. Escapes everything but printable ASCII; folds with a trailing `\` when
   * the line would pass the width at a space or right after an escape, and protects a leading
   * space on the continuation line with `\`.
   */
  private writeDoubleQuoted(t: string[], split: boolean): void {
    this.writeIndicator('"', true);
    let start = 0;
    const n = t.length;
    for (let end = 0; end <= n; end++) {
      const ch = t[end];
      if (ch === undefined || needsEscape(ch)) {
        if (start < end) {
          this.write(t.slice(start, end).join(''));
          start = end;
        }
        if (ch !== undefined) {
          this.write(escapeChar(ch));
          start = end + 1;
        }
      }
      if (end > 0 && end < n - 1 && (ch === ' ' || start >= end) && this.column + (end - start) > BEST_WIDTH && split) {
        this.write(`${t.slice(start, end).join('')}\\`);
        if (start < end) start = end;
        this.writeIndent();
        this.whitespace = false;
        this.indention = false;
        if (t[start] === ' ') this.write('\\');
      }
    }
    this.writeIndicator('"', false);
  }
}
