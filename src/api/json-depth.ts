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
 * over the text; a string is skipped whole, from its opening quote to the
 * next quote not escaped (indexOf, which is several times faster than
 * stepping through its characters: the strings are most of a payload's
 * text, and this check was 5 % of the API's CPU in the batch intake
 * benchmark). Text no longer than `limit` cannot be that deep and is not scanned.
 */
export function nestedDeeperThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && escapedAt(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return false; // an unterminated string: nothing after it nests
      i = end;
    } else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** Whether the character at `at` is escaped: an odd run of backslashes just before it. */
function escapedAt(text: string, at: number): boolean {
  let n = 0;
  while (text.charCodeAt(at - 1 - n) === 92) n++;
  return n % 2 === 1;
}
