import { LosslessNumber, isSafeNumber, parse, stringify } from 'lossless-json';

/*
 * JSON.parse turns 12345678901234567890 into 12345678901234567000: a payload
 * with an integer beyond 2^53 (ids, amounts in minor units) would be
 * delivered altered. Publish routes therefore re-read such bodies with
 * lossless-json: integers that a double cannot hold keep their digits,
 * everything else is serialized exactly as JSON.stringify would (so
 * receivers that re-serialize the parsed body still get the signed bytes).
 * A cheap test on the raw text keeps the common path on JSON.parse.
 */
const LONG_DIGITS = /\d{16}/;

const parseNumber = (s: string): unknown => (/^-?\d+$/.test(s) && !isSafeNumber(s) ? new LosslessNumber(s) : Number(s));

/** The raw body parsed with big integers kept, or null when it has none (use the ordinary parse). */
export function losslessBody(raw: string | undefined): unknown {
  if (raw === undefined || !LONG_DIGITS.test(raw)) return null;
  return parse(raw, null, parseNumber);
}

/** Compact JSON of a value from `losslessBody` (big integers written with all their digits). */
export function compactJson(value: unknown): string {
  return stringify(value) ?? 'null';
}
