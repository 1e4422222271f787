/**
 * CSV records, as pandas' C tokenizer splits them (the rules `parseCsvRequest` documents):
 * `,` separated, `"` quoted with `""` escapes, quoted fields may span lines; `\n`, `\r\n` and `\r`
 * end records; blank lines (empty or spaces/tabs only) are skipped.
 *
 * Resumable, so text can be fed in pieces: `tokenize` reads the records that are complete in
 * its input, reports how much it consumed, and leaves a record whose quoted field is still open
 * at the end of a non-final piece for the next call. `completeRecordsEnd` picks a safe place to
 * cut a piece: just after its last line terminator (so `\r\n` is never split).
 */

/** A syntax error in CSV text (pandas words these as `Error tokenizing data. C error: …`). */
export class CsvSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

export interface CsvRecords {
  /** Fields of each record (rows are not padded here). */
  readonly rows: string[][];
  /** 1-based line number where each record starts. */
  readonly lines: number[];
  /** Characters of the input consumed: complete records and the blank lines between them. */
  readonly consumed: number;
  /** The line number at `consumed`. */
  readonly line: number;
}

function isBlankLine(s: string, from: number): number {
  // Returns the index just past the line terminator when the line is empty or spaces/tabs only, else -1.
  let i = from;
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    if (c === 0x0a) return i + 1;
    if (c === 0x0d) return s.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
    if (Number.isNaN(c)) return i === from ? -1 : i;
    return -1;
  }
}

/**
 * Index just past the last line terminator of `s` that can safely end a piece (0 when there is
 * none): a `\n`, or a `\r` that is not the last character (it might be the first half of `\r\n`).
 */
export function completeRecordsEnd(s: string): number {
  const n = s.length;
  const lf = s.lastIndexOf('\n');
  const cr = n >= 2 ? s.lastIndexOf('\r', n - 2) : -1;
  return Math.max(lf + 1, cr + 1);
}

/**
 * Split `s` into records, starting at line `line`. With `final` false, `s` must end just after a
 * line terminator (see `completeRecordsEnd`) and a record whose quoted field is still open at the
 * end is left unconsumed; with `final` true that is an error, as at the end of a file.
 */
export function tokenize(s: string, line = 1, final = true): CsvRecords {
  const rows: string[][] = [];
  const lines: number[] = [];
  const n = s.length;
  let i = 0;
  while (i < n) {
    const blankEnd = isBlankLine(s, i);
    if (blankEnd >= 0) {
      i = blankEnd;
      line++;
      continue;
    }
    const recordStart = i;
    const startLine = line;
    const fields: string[] = [];
    let open = false;
    for (;;) {
      // One field starting at i.
      let value: string;
      if (s.charCodeAt(i) === 0x22) {
        const quoteLine = line;
        const parts: string[] = [];
        let j = i + 1;
        for (;;) {
          const q = s.indexOf('"', j);
          if (q < 0) {
            if (!final) {
              open = true;
              break;
            }
            throw new CsvSyntaxError(`EOF inside string starting at row ${quoteLine}`);
          }
          const chunk = s.slice(j, q);
          for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line++;
          parts.push(chunk);
          if (s.charCodeAt(q + 1) === 0x22) {
            parts.push('"');
            j = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        if (open) break;
        // Characters after the closing quote, up to the delimiter, are kept (pandas' C parser does).
        let k = i;
        while (k < n) {
          const c = s.charCodeAt(k);
          if (c === 0x2c || c === 0x0a || c === 0x0d) break;
          k++;
        }
        if (k > i) parts.push(s.slice(i, k));
        i = k;
        value = parts.join('');
      } else {
        let k = i;
        while (k < n) {
          const c = s.charCodeAt(k);
          if (c === 0x2c || c === 0x0a || c === 0x0d) break;
          k++;
        }
        value = s.slice(i, k);
        i = k;
      }
      fields.push(value);
      const c = s.charCodeAt(i);
      if (c === 0x2c) {
        i++;
        continue;
      }
      if (c === 0x0d) i += s.charCodeAt(i + 1) === 0x0a ? 2 : 1;
      else if (c === 0x0a) i++;
      line++;
      break;
    }
    if (open) return { rows, lines, consumed: recordStart, line: startLine };
    rows.push(fields);
    lines.push(startLine);
  }
  return { rows, lines, consumed: n, line };
}

/** pandas' header handling: empty names → `Unnamed: i`, duplicates → `a.1`, `a.2`. */
export function headerNames(raw: readonly string[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set<string>();
  const out: string[] = [];
  raw.forEach((h, i) => {
    let name = h === '' ? `Unnamed: ${i}` : h;
    if (taken.has(name)) {
      let k = seen.get(name) ?? 0;
      let candidate: string;
      do candidate = `${name}.${++k}`;
      while (taken.has(candidate));
      seen.set(name, k);
      name = candidate;
    }
    taken.add(name);
    out.push(name);
  });
  return out;
}
