/**
 * Where the entry module of a worker thread is: `path` relative to src/
 * (e.g. `db/pglite-thread.js`). Compiled, it sits in dist/ beside this
 * file. Tests run the sources as TypeScript (vitest), and a worker thread
 * cannot load TypeScript on Node 20, so there the compiled copy in dist/
 * is used: `npm test` builds first.
 */
export function threadEntry(path: string): URL {
  return import.meta.url.endsWith('.ts') ? new URL(`../dist/${path}`, import.meta.url) : new URL(`./${path}`, import.meta.url);
}
