import { LosslessNumber, getUnsafeNumberReason, isNumber, parse, stringify } from 'lossless-json';
import { errors } from '../errors.js';

/*
 * JSON.parse turns 12345678901234567890 into 12345678901234567000 and
 * 0.12345678901234567891 into 0.12345678901234568: a payload with such a
 * number (ids, amounts in minor units, high-precision decimals) would be
 * delivered altered. Publish routes therefore re-read such bodies with
 * lossless-json: numbers that a double cannot hold keep their digits in
 * delivery and in the event log, everything else is serialized exactly as
 * JSON.stringify would (so receivers that re-serialize the parsed body
 * still get the signed bytes). Schema validation sees the nearest double.
 *
 * A number beyond the double range (1e400) or too small for it (1e-400)
 * has no double at all: JSON.parse made it Infinity (delivered as `null`,
 * and it passed an `integer` schema) or 0. Such numbers are refused with a
 * 400 naming their path, as most receivers could not parse them either.
 *
 * A cheap test on the raw text keeps the common path on JSON.parse: a
 * number needs 16 or more significant digits, or an exponent of three
 * digits, to be unsafe. Most numbers that long are still safe (a double
 * printed by JavaScript or Python has up to 17 digits: 0.30000000000000004,
 * 52.520006599999995, a timestamp with microseconds), so each one is
 * checked on its own before the whole body is parsed again: that second
 * parse (and lossless-json's serializer after it) cost 31 µs per 1 KB
 * publish in `serve` at 1,000 publishes/s with such a float in every
 * payload, 3 % of a core.
 */
const MAYBE_UNSAFE = /(?:\d\.?){16}|[eE][+-]?\d{3}/g;
/** Characters a JSON number is made of (a match above is widened over them to the whole number). */
const isNumberChar = (c: number): boolean => (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;

/**
 * Whether the text may hold a number that a double would change: a long
 * run that is a JSON number JSON.parse cannot keep, or one that is not a
 * JSON number at all (digits inside a string, say), which is left to the
 * exact parse to judge.
 */
function mayHoldUnsafeNumber(raw: string): boolean {
  MAYBE_UNSAFE.lastIndex = 0;
  for (let m = MAYBE_UNSAFE.exec(raw); m !== null; m = MAYBE_UNSAFE.exec(raw)) {
    let start = m.index;
    let end = m.index + m[0].length;
    while (start > 0 && isNumberChar(raw.charCodeAt(start - 1))) start--;
    while (end < raw.length && isNumberChar(raw.charCodeAt(end))) end++;
    const token = raw.slice(start, end);
    if (!isNumber(token) || getUnsafeNumberReason(token) !== undefined) return true;
    MAYBE_UNSAFE.lastIndex = end;
  }
  return false;
}

/** A number that no double can hold, kept only to name its path in the error. */
class OutOfRange {
  constructor(
    readonly text: string,
    readonly reason: 'overflow' | 'underflow',
  ) {}
}

function parseNumber(s: string): unknown {
  const reason = getUnsafeNumberReason(s);
  if (reason === undefined) return Number(s);
  if (reason === 'overflow' || reason === 'underflow') return new OutOfRange(s, reason);
  return new LosslessNumber(s);
}

/** The first out-of-range number in a parsed value, with its path (`payload.a[2]`). */
function findOutOfRange(v: unknown, path: string): { path: string; n: OutOfRange } | null {
  if (v instanceof OutOfRange) return { path, n: v };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const hit = findOutOfRange(v[i], `${path}[${i}]`);
      if (hit) return hit;
    }
  } else if (v && typeof v === 'object' && !(v instanceof LosslessNumber)) {
    for (const [k, x] of Object.entries(v)) {
      const hit = findOutOfRange(x, path ? `${path}.${k}` : k);
      if (hit) return hit;
    }
  }
  return null;
}

/** JSON text parsed with every number's digits kept; throws a 400 naming a number no double can hold. */
export function parseExact(text: string, prefix = ''): unknown {
  const value = parse(text, null, parseNumber);
  const bad = findOutOfRange(value, prefix);
  if (bad) {
    const what = bad.n.reason === 'overflow' ? 'is beyond the range of a double (±1.8e308)' : 'is too small for a double (it would become 0)';
    throw errors.invalidField(bad.path, `${bad.n.text} ${what}; send it as a string`);
  }
  return value;
}

/** The raw body parsed with unsafe numbers kept, or null when it has none (use the ordinary parse). */
export function losslessBody(raw: string | undefined): unknown {
  if (raw === undefined || !mayHoldUnsafeNumber(raw)) return null;
  return parseExact(raw);
}

/** Stored JSON text parsed with every unsafe number kept as written (never throws for range: it was accepted once). */
export function parseStored(text: string): unknown {
  return parse(text, null, (s) => (getUnsafeNumberReason(s) === undefined ? Number(s) : new LosslessNumber(s)));
}

/** Compact JSON of a value from `losslessBody` (unsafe numbers written with all their digits). */
export function compactJson(value: unknown): string {
  return stringify(value) ?? 'null';
}
