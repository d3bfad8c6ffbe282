import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'hs1';

interface Key {
  id: string;
  key: Buffer;
}

/**
 * Encryption at rest for endpoint secrets: AES-256-GCM with a random 96-bit
 * nonce per value, stored as `hs1:<key id>:<base64 nonce|ciphertext|tag>`.
 * The first key encrypts; every key decrypts, so keys rotate by putting a
 * new key first, re-encrypting (`herald rotate-secrets-key`), then dropping
 * the old one. A key id is the first 8 hex digits of the key's SHA-256, so
 * the database never holds anything derived from a key that helps find it.
 */
export class SecretBox {
  private readonly keys: Key[];
  /** Decrypted values by stored value: the worker opens the same few secrets for every delivery. */
  private readonly opened = new Map<string, string>();

  /** `keys`: base64 (or hex) 32-byte keys, the current one first. */
  constructor(keys: string[]) {
    if (keys.length === 0) throw new Error('at least one encryption key is needed');
    this.keys = keys.map((k) => ({ id: SecretBox.keyId(k), key: parseKey(k) }));
  }

  /** The id under which values sealed with `key` are stored. */
  static keyId(key: string): string {
    return createHash('sha256').update(parseKey(key)).digest('hex').slice(0, 8);
  }

  /** Ids of every configured key. */
  get keyIds(): string[] {
    return this.keys.map((k) => k.id);
  }

  static generateKey(): string {
    return randomBytes(32).toString('base64');
  }

  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  seal(plain: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `${PREFIX}:${id}:${Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64')}`;
  }

  /**
   * Keys derived from each configured key for another purpose named by
   * `label` (HMAC-SHA256 of the label), the current key's first. Every
   * process holding the same keys derives the same values, so an API and a
   * worker process can check each other's MACs without a key of their own.
   */
  derivedKeys(label: string): Buffer[] {
    return this.keys.map((k) => createHmac('sha256', k.key).update(label).digest());
  }

  /** Decrypts a stored value; a value stored before encryption was enabled is returned as is. */
  open(stored: string): string {
    if (!stored.startsWith(`${PREFIX}:`)) return stored;
    const hit = this.opened.get(stored);
    if (hit !== undefined) return hit;
    const plain = this.decrypt(stored);
    if (this.opened.size >= 10_000) this.opened.clear();
    this.opened.set(stored, plain);
    return plain;
  }

  private decrypt(stored: string): string {
    const [, id, data] = stored.split(':');
    const k = this.keys.find((x) => x.id === id);
    if (!k || !data) throw new Error(`endpoint secret was encrypted with key ${id}, which is not configured (HERALD_SECRET_KEYS)`);
    const raw = Buffer.from(data, 'base64');
    const d = createDecipheriv('aes-256-gcm', k.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
  }

  /** True when a stored value is not encrypted with the current key. */
  isStale(stored: string): boolean {
    return !stored.startsWith(`${PREFIX}:${this.currentKeyId}:`);
  }
}

function parseKey(k: string): Buffer {
  const s = k.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (buf.length !== 32) throw new Error('an encryption key must be 32 bytes, base64 or hex encoded');
  return buf;
}
