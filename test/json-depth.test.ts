import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nestedDeeperThan } from '../src/api/json-depth.js';

/*
 * The depth check skips strings with indexOf; the plain character-by-character
 * scan it replaced is the reference: both must agree on any text, valid JSON
 * or not (the check runs before the body is parsed).
 */
function reference(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

describe('nestedDeeperThan', () => {
  it('counts brackets and braces outside strings only', () => {
    expect(nestedDeeperThan(nested(5), 4)).toBe(true);
    expect(nestedDeeperThan(nested(4), 4)).toBe(false);
    expect(nestedDeeperThan(`{"a":${nested(3, '{"b":{}}')}}`, 5)).toBe(true);
    // brackets inside strings do not nest, whatever escapes come before their closing quote
    expect(nestedDeeperThan(JSON.stringify({ s: '[[[[[[[[[[' }), 3)).toBe(false);
    expect(nestedDeeperThan(JSON.stringify({ s: 'a\\"[[[[[[[[' }), 3)).toBe(false);
    expect(nestedDeeperThan(JSON.stringify({ s: 'ends in a backslash \\' }) + nested(6), 4)).toBe(true);
    expect(nestedDeeperThan(JSON.stringify({ s: '\\\\\\' }) + nested(6), 4)).toBe(true);
    // an unterminated string hides what follows, as in the plain scan
    expect(nestedDeeperThan(`{"a":"${nested(9)}`, 4)).toBe(false);
  });

  it('agrees with a character-by-character scan on any text', () => {
    const piece = fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', '\\\\', 'a', ':', ',', ' ', '1', 'é', '𝄞');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 200 }), fc.integer({ min: 0, max: 12 }), (parts, limit) => {
        const text = parts.join('');
        expect(nestedDeeperThan(text, limit)).toBe(reference(text, limit));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with it on real JSON documents', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'large' }), fc.integer({ min: 0, max: 8 }), (text, limit) => {
        expect(nestedDeeperThan(text, limit)).toBe(reference(text, limit));
      }),
      { numRuns: 1000 },
    );
  });
});
