import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';

/** Where the API reference is served. */
export const API_REFERENCE_PATH = '/docs';

/**
 * The API reference at `/docs`: Swagger UI rendering Herald's own OpenAPI
 * document (`/docs/json`, the same as `/openapi.json`), with its scripts and
 * styles served from the installed package, never a CDN, so it works on a
 * machine without internet access. `staticCSP` sends a Content-Security-Policy
 * that allows only those local files.
 *
 * Chosen over Scalar's Fastify plugin, which needs Node 22 (Herald supports
 * Node 20), and over a renderer of our own: @fastify/swagger-ui is maintained
 * by the Fastify team beside @fastify/swagger, which already builds the
 * document from the route schemas. "Try it out" sends real requests with the
 * token given under "Authorize", and shows each as a curl command.
 */
export const apiReference: FastifyPluginAsync = async (app) => {
  await app.register(swaggerUi, {
    routePrefix: API_REFERENCE_PATH,
    // Only this origin: no CDN, no online validator (swagger-ui's default badge calls validator.swagger.io),
    // and no upgrade-insecure-requests, which would break a Herald reached over plain http on a LAN.
    // Swagger UI adds one <style> element at run time (Chromium reports it), hence 'unsafe-inline' for
    // styles here only: the page shows Herald's own document, no tenant data, and scripts stay 'self'.
    staticCSP:
      "default-src 'self'; base-uri 'self'; object-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'",
    theme: { title: 'Herald API reference' },
    uiConfig: {
      docExpansion: 'list',
      deepLinking: true,
      defaultModelsExpandDepth: 0,
      displayRequestDuration: true,
      validatorUrl: null,
    },
  });
};
