/**
 * Strict ISO-8601 parsing for datetime columns and params (numpy `datetime64` semantics:
 * `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, optionally `[T ]HH[:MM[:SS[.fffffffff]]]`). Values with a
 * timezone designator are reported separately: MLflow only accepts timezone-naive datetimes.
 */

const ISO_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export interface ParsedDatetime {
  readonly ns: bigint;
  /** True when only a date (no time part) was given, like Python's `datetime.date`. */
  readonly dateOnly: boolean;
}

/**
 * Parse an ISO string to nanoseconds since the epoch. Returns `'timezone'` when the string is
 * well formed but carries a timezone, `undefined` when it is not a valid datetime.
 */
export function parseIsoDatetime(text: string): ParsedDatetime | 'timezone' | undefined {
  const m = ISO_RE.exec(text.trim());
  if (!m) return undefined;
  const [, ys, mos = '01', ds = '01', hs, mis = '00', ss = '00', frac = '', tz] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = hs === undefined ? 0 : Number(hs);
  const mi = Number(mis);
  const s = Number(ss);
  if (mo < 1 || mo > 12) return undefined;
  const dim = mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1]!;
  if (d < 1 || d > dim || h > 23 || mi > 59 || s > 59) return undefined;
  if (tz !== undefined) return 'timezone';
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  const ns = BigInt(seconds) * 1_000_000_000n + (frac ? BigInt(frac.padEnd(9, '0')) : 0n);
  return { ns, dateOnly: hs === undefined };
}

/** Nanoseconds since the epoch of a JS Date, or undefined for an invalid Date. */
export function dateToNs(d: Date): bigint | undefined {
  const ms = d.getTime();
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
}

/** A JS Date (millisecond precision, UTC-based, i.e. naive) for nanoseconds since the epoch. */
export function nsToDate(ns: bigint): Date {
  const ms = ns / 1_000_000n - (ns < 0n && ns % 1_000_000n !== 0n ? 1n : 0n);
  return new Date(Number(ms));
}
