import { statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { API_REFERENCE_PATH } from './api-reference.js';

/**
 * Serves the web UI (packages/web, built by `npm run build`) at `/`: files
 * under `assets/` with long-lived caching (their names carry a content hash),
 * and `index.html` for every other GET that is not an API path, so the UI's
 * own routes (`/t/acme/endpoints`, `/portal`) survive a reload.
 */

/** Paths that belong to the API: never answered with the UI. */
const API_PATHS = ['/v1', '/healthz', '/readyz', '/metrics', '/openapi.json', '/documentation', API_REFERENCE_PATH];

/** Where the built UI is, from src/api (tests) and dist/api (built) alike. */
export const DEFAULT_UI_ROOT = resolve(fileURLToPath(new URL('../../packages/web/dist', import.meta.url)));

/**
 * The UI talks only to its own origin; React renders every payload and
 * response body as text. No inline scripts and no inline styles: React and
 * the chart library set styles through the DOM (CSSOM), which CSP allows, and
 * the browser tests fail on any CSP violation the console reports.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
];

/**
 * The dashboard may not be framed (clickjacking of the admin's session); the
 * customer portal exists to be framed by the platform's own app, from any
 * origin, as the link's token (not the framing page) is what grants access.
 */
function setDocumentHeaders(reply: FastifyReply, portal: boolean): void {
  reply.header('content-security-policy', [...CSP, portal ? 'frame-ancestors *' : "frame-ancestors 'none'"].join('; '));
  if (!portal) reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cache-control', 'no-cache');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Herald</title>
<p>Herald's web UI has not been built. Run <code>npm run build</code> (or <code>npm install</code>, which builds it) and reload.</p>
<p>The API is at <a href="/openapi.json">/openapi.json</a>.</p>`;

export interface StaticUiOptions {
  /** Directory of the built UI. (Default: packages/web/dist) */
  root?: string;
}

export const staticUi = (opts: StaticUiOptions = {}): FastifyPluginAsync => async (app) => {
  const root = opts.root ?? DEFAULT_UI_ROOT;
  let built = false;
  // serve: false: only `reply.sendFile`; the one route below decides what is a file.
  await app.register(fastifyStatic, { root, serve: false, index: false, suppressWarning: true });

  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const path = (req.url.split('?')[0] ?? '/').replace(/\/{2,}/g, '/');
    if (API_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) return reply.callNotFound();
    const portal = path === '/portal' || path.startsWith('/portal/');
    built ||= isFile(join(root, 'index.html'));
    if (!built) {
      setDocumentHeaders(reply, portal);
      return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    // Files are the hashed bundles under /assets/ and a few top-level ones (favicon.svg);
    // anything else is a UI route, even with a dot in it (`/t/acme/event-types/invoice.paid`).
    if (path.startsWith('/assets/') || /^\/[^/]+\.[A-Za-z0-9]+$/.test(path)) {
      let rel: string;
      try {
        rel = decodeURIComponent(path).replace(/^\/+/, '');
      } catch {
        return reply.callNotFound();
      }
      const file = resolve(root, rel);
      if (!file.startsWith(root + sep) || !isFile(file)) return reply.callNotFound();
      if (rel.endsWith('.html')) setDocumentHeaders(reply, portal);
      reply.header('x-content-type-options', 'nosniff');
      if (rel.startsWith('assets/')) return reply.sendFile(rel, { maxAge: '365d', immutable: true });
      reply.header('cache-control', 'no-cache');
      return reply.sendFile(rel, { cacheControl: false });
    }
    setDocumentHeaders(reply, portal);
    return reply.sendFile('index.html', { cacheControl: false });
  });
};

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
