import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryTextArray, binaryTextArraysIn, readBinaryTextArray } from '../src/db/binary-text-array.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * Publish statements take the payloads as a binary text[] parameter
 * (db/binary-text-array.ts): pg sends it as it is, PGlite's thread reads
 * it back into strings. Both must hand the statement the same texts.
 */
let herald: TestHerald;

beforeAll(async () => {
  herald = await startHerald({}, { api: true, worker: false });
});
afterAll(async () => {
  await herald?.stop();
});

const texts = ['{"a":1}', '', 'café 𝄞 😀 日本', '"quoted" and \\backslash\\', 'x'.repeat(70_000), '{}'];

describe('binary text[] parameters', () => {
  it('reach the database as the same texts, in order', async () => {
    const { rows } = await herald.running.db.query<{ t: string; n: string }>(
      'select t, n::text from unnest($1::text[]) with ordinality as u(t, n) order by n',
      [binaryTextArray(texts)],
    );
    expect(rows.map((r) => r.t)).toEqual(texts);
  });

  it('an empty array is an empty array', async () => {
    const { rows } = await herald.running.db.query<{ n: number }>('select cardinality($1::text[]) as n', [binaryTextArray([])]);
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('is told apart from other Buffers by what made it, not by its bytes, and read back', () => {
    const bytes = binaryTextArray(texts);
    const lookalike = Buffer.from(bytes); // a bytea value with the same bytes stays a bytea value
    expect(binaryTextArraysIn(['a', lookalike, bytes, null])).toEqual([2]);
    expect(readBinaryTextArray(bytes)).toEqual(texts);
  });

  it('a bytea parameter beside one is still a bytea', async () => {
    const { rows } = await herald.running.db.query<{ n: number; hex: string }>(
      `select cardinality($1::text[]) as n, encode($2::bytea, 'hex') as hex`,
      [binaryTextArray(['a', 'b']), Buffer.from([0, 1, 255])],
    );
    expect(Number(rows[0]!.n)).toBe(2);
    expect(rows[0]!.hex).toBe('0001ff');
  });
});
