import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import type { Queryable } from '../db/db.js';
import type { Logger } from '../logger.js';
import { sealingKeyIds } from '../store/sealed-secrets.js';
import { SecretBox } from './secret-box.js';
import { generateToken, hashToken } from './tokens.js';

/**
 * The admin token and the secret-encryption key of an embedded (PGlite)
 * deployment, kept as files (mode 0600) inside its data directory: they
 * belong to that database and to no other. (They used to sit in the data
 * directory's parent, so `/tmp/a` and `/tmp/b` shared `/tmp/secret-key`.)
 * A PostgreSQL deployment sets both in its environment instead.
 */
import { ADMIN_TOKEN_FILE, SECRET_KEY_FILE } from './key-file-names.js';

export { ADMIN_TOKEN_FILE, SECRET_KEY_FILE };

/** A key file that exists but cannot be used, or a key that is missing while the database needs it. */
export class KeyFileError extends Error {}

type Read = { ok: true; value: string } | { ok: false };

/** The trimmed content of a key file; `{ok: false}` only when it does not exist. Any other failure stops the process. */
async function readKeyFile(file: string): Promise<Read> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false };
    throw new KeyFileError(`cannot read ${file}: ${(err as Error).message}; fix it (Herald will not replace it)`, { cause: err });
  }
  const value = text.trim();
  if (!value) throw new KeyFileError(`${file} is empty; restore it from a backup (Herald will not replace it)`);
  return { ok: true, value };
}

/** Writes a new key file unless one appeared meanwhile (another process starting): then that one wins. */
async function createKeyFile(file: string, value: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(file, value + '\n', { mode: 0o600, flag: 'wx' });
    return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyFileError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
    const again = await readKeyFile(file);
    if (!again.ok) throw new KeyFileError(`${file} vanished while it was being created`);
    return again.value;
  }
}

const dataDirOf = (config: Config) => resolve(config.dataDir);
/** Where versions before issue 11 kept the file: beside the data directory. */
const legacyFile = (config: Config, name: string) => join(dataDirOf(config), '..', name);

/**
 * The admin token: from config, or (embedded only) the data directory's
 * `admin-token`, generated on first start. A token left beside the data
 * directory by an earlier version is kept (copied in) when the data
 * directory holds no token yet but already holds a database.
 */
export async function resolveAdminToken(config: Config): Promise<{ token: string | null; hash: string; generated: boolean }> {
  if (config.adminToken) return { token: config.adminToken, hash: hashToken(config.adminToken), generated: false };
  if (config.databaseUrl) {
    throw new ConfigError('invalid configuration:\n  adminToken (HERALD_ADMIN_TOKEN): required when DATABASE_URL is set');
  }
  const file = join(dataDirOf(config), ADMIN_TOKEN_FILE);
  const have = await readKeyFile(file);
  if (have.ok) return { token: have.value, hash: hashToken(have.value), generated: false };
  const legacy = await readKeyFile(legacyFile(config, ADMIN_TOKEN_FILE));
  if (legacy.ok && (await hasDatabase(config))) {
    const token = await createKeyFile(file, legacy.value);
    return { token, hash: hashToken(token), generated: false };
  }
  const token = await createKeyFile(file, generateToken());
  return { token, hash: hashToken(token), generated: true };
}

async function hasDatabase(config: Config): Promise<boolean> {
  return (await readFile(join(dataDirOf(config), 'PG_VERSION')).then(() => true, () => false));
}

/**
 * Keys for endpoint secrets at rest: from config, or (embedded only) the
 * data directory's `secret-key`. Never invented where one is needed: when
 * the database holds secrets encrypted with keys that are not configured,
 * the process stops with a message naming them (a new key would make every
 * endpoint secret undecryptable). A key file left beside the data
 * directory by an earlier version is copied in when it is the one that
 * encrypted this database's secrets.
 */
export async function resolveSecretKeys(config: Config, db: Queryable, logger?: Logger): Promise<string[]> {
  const used = await sealingKeyIds(db);
  if (config.secretKeys.length > 0) return checked([...config.secretKeys], used, 'HERALD_SECRET_KEYS');
  if (config.databaseUrl) {
    throw new ConfigError(
      'invalid configuration:\n  secretKeys (HERALD_SECRET_KEYS): required when DATABASE_URL is set (32 random bytes, base64: openssl rand -base64 32)',
    );
  }
  const file = join(dataDirOf(config), SECRET_KEY_FILE);
  const have = await readKeyFile(file);
  if (have.ok) return checked([have.value], used, file);
  if (used.length === 0) return [await createKeyFile(file, SecretBox.generateKey())];
  const old = legacyFile(config, SECRET_KEY_FILE);
  const legacy = await readKeyFile(old);
  if (legacy.ok && used.includes(SecretBox.keyId(legacy.value))) {
    logger?.warn({ from: old, to: file }, 'moving the secret-encryption key into the data directory (copied; remove the old file once you have a backup)');
    return checked([await createKeyFile(file, legacy.value)], used, file);
  }
  throw new KeyFileError(
    `${file} does not exist, but the database holds endpoint secrets encrypted with key ${used.join(', ')}. ` +
      'Restore the key file from a backup (or set HERALD_SECRET_KEYS); a new key would make every endpoint secret undecryptable, so none is generated.',
  );
}

/** Every key that sealed a stored secret must be configured. */
function checked(keys: string[], used: string[], source: string): string[] {
  let ids: Set<string>;
  try {
    ids = new Set(keys.map((k) => SecretBox.keyId(k)));
  } catch (err) {
    throw new KeyFileError(`${source}: ${(err as Error).message}`, { cause: err });
  }
  const missing = used.filter((id) => !ids.has(id));
  if (missing.length > 0) {
    throw new KeyFileError(
      `the database holds endpoint secrets encrypted with key ${missing.join(', ')}, which ${source} does not hold; add that key (the first key encrypts, every key decrypts)`,
    );
  }
  return keys;
}
