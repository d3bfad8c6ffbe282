/**
 * Names of the key files inside an embedded data directory (key-files.ts),
 * apart so that the CLI can find the admin token without loading the
 * configuration and encryption modules.
 */
export const ADMIN_TOKEN_FILE = 'admin-token';
export const SECRET_KEY_FILE = 'secret-key';
