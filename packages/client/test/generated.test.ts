import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../../../test/helpers/herald.js';
import { generateTypes, type OpenApiDocument } from '../codegen/openapi-types.js';

/**
 * src/openapi-types.ts is generated from a running Herald's /openapi.json and
 * committed; this fails when it is stale (a route schema changed without
 * regenerating). UPDATE_GENERATED=1 rewrites it instead.
 */
const FILE = fileURLToPath(new URL('../src/openapi-types.ts', import.meta.url));
let h: TestHerald;
let doc: OpenApiDocument;

beforeAll(async () => {
  h = await startHerald({}, { api: true, worker: false });
  doc = (await h.api.get('/openapi.json')).body as OpenApiDocument;
}, 120_000);
afterAll(() => h?.stop());

it('src/openapi-types.ts matches /openapi.json', async () => {
  const fresh = generateTypes(doc);
  if (process.env.UPDATE_GENERATED === '1') await writeFile(FILE, fresh);
  expect(await readFile(FILE, 'utf8')).toBe(fresh);
});

it('refuses a schema it cannot type, naming where', () => {
  const bad: OpenApiDocument = { paths: { '/v1/x': { get: { responses: { '200': { content: { 'application/json': { schema: { type: 'object', properties: { a: { type: 'frob' } } } } } } } } } } };
  expect(() => generateTypes(bad)).toThrow(/GET \/v1\/x response\.a: a schema this generator does not know/);
});
