/**
 * Request bodies may nest objects and arrays at most this deep. JSON.parse
 * copes with any depth, but the recursive steps after it do not: a publish
 * of 100,000 nested arrays (200 KB, under the body limit) overflowed the
 * stack in JSON.stringify and was answered 500 (found by
 * test/api-validation.test.ts). Real webhook payloads stay far below 128.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * True when JSON text nests objects/arrays deeper than `limit`. One pass
 * over the characters, skipping strings; text no longer than `limit`
 * cannot be that deep and is not scanned.
 */
export function nestedDeeperThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}
