import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/**
 * Sortable random ids: `<prefix>_<10 chars of milliseconds><16 chars of randomness>`
 * (a lower-case ULID). Sorting by id sorts by creation time, which keeps
 * cursor pagination and b-tree inserts cheap; 80 random bits make ids
 * unguessable.
 */
// Random bytes drawn 4 KiB at a time: one randomBytes call per id was 5 % of
// a worker's CPU in the benchmark profile (two ids per delivery).
let pool = Buffer.alloc(0);
let poolAt = 0;
function random10(): Buffer {
  if (poolAt + 10 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  poolAt += 10;
  return pool.subarray(poolAt - 10, poolAt);
}

export function newId(prefix: string): string {
  let ms = Date.now();
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  const bytes = random10();
  let rand = '';
  // 10 bytes = 80 bits = 16 base32 characters
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      rand += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return `${prefix}_${time}${rand}`;
}
