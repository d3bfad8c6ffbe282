import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';

/**
 * /openapi.json describes every response of the API exactly, so that a
 * typed client can be generated from it: no schema without a type, no
 * object without its properties, except the values that are free JSON on
 * purpose (payloads, templates, JSON Schemas), which say so (`x-any-json`).
 */
type Schema = Record<string, any>;

let h: TestHerald;
let doc: { openapi: string; paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema: Schema }> }> }>>; components?: { schemas?: Record<string, Schema> } };

beforeAll(async () => {
  h = await startHerald({}, { api: true, worker: false });
  doc = (await h.api.get('/openapi.json')).body;
});
afterAll(() => h?.stop());

/** Where a schema leaves something untyped, as JSON paths. */
function untyped(schema: Schema, at: string, seen = new Set<Schema>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    return target ? untyped(target, `${at}→${name}`, seen) : [`${at}: dangling ${schema.$ref}`];
  }
  if (schema['x-any-json'] === true) return [];
  const found: string[] = [];
  const composed = ['anyOf', 'oneOf', 'allOf'].flatMap((k) => (Array.isArray(schema[k]) ? (schema[k] as Schema[]) : []));
  for (const [i, s] of composed.entries()) found.push(...untyped(s, `${at}|${i}`, seen));
  if (composed.length > 0) return found;
  if (schema.type === undefined && schema.enum === undefined && schema.const === undefined) return [`${at}: no type`];
  if (schema.type === 'object') {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const extra = schema.additionalProperties as Schema | boolean | undefined;
    const patterns = Object.values((schema.patternProperties ?? {}) as Record<string, Schema>);
    const open = typeof extra === 'object' ? [extra] : [];
    if (Object.keys(props).length === 0 && open.length === 0 && patterns.length === 0) found.push(`${at}: object without properties`);
    for (const [k, s] of Object.entries(props)) found.push(...untyped(s, `${at}.${k}`, seen));
    for (const s of [...open, ...patterns]) found.push(...untyped(s, `${at}[*]`, seen));
  }
  if (schema.type === 'array') found.push(...(schema.items ? untyped(schema.items as Schema, `${at}[]`, seen) : [`${at}: array without items`]));
  return found;
}

describe('/openapi.json as a document', () => {
  it('is OpenAPI 3.1 (its schemas use `type: "null"`, which 3.0 does not have) and valid against the 3.1 schema', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(JSON.stringify(doc)).toContain('"type":"null"');
  });

  it('the validator refuses what 3.1 does not allow', async () => {
    const broken = { ...doc, paths: { '/v1/x': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'nothing' } } } } } } } } };
    expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);
  });

  it('describes the herald listen routes', () => {
    const ops = (path: string) => Object.keys(doc.paths[path] ?? {});
    expect(ops('/v1/tenants/{tenantId}/listen-sessions')).toEqual(['post']);
    expect(ops('/v1/tenants/{tenantId}/listen-sessions/{sessionId}/stream')).toEqual(['get']);
    expect(ops('/v1/tenants/{tenantId}/listen-sessions/{sessionId}/reports')).toEqual(['post']);
    expect(ops('/listen-relay/{sessionId}/{mac}')).toEqual(['post']);
    const stream = doc.paths['/v1/tenants/{tenantId}/listen-sessions/{sessionId}/stream']!.get!.responses!['200']!;
    expect(Object.keys(stream.content ?? {})).toEqual(['text/event-stream']);
  });
});

describe('/openapi.json response schemas', () => {
  it('types every response of every /v1 route', () => {
    const problems: string[] = [];
    let responses = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, r] of Object.entries(op.responses ?? {})) {
          const schema = r.content?.['application/json']?.schema;
          if (!schema) continue;
          responses++;
          problems.push(...untyped(schema, `${method.toUpperCase()} ${path} ${status}`));
        }
      }
    }
    expect(problems).toEqual([]);
    expect(responses).toBeGreaterThan(30);
  });

  it('describes an endpoint\'s signature, retry policy and a tenant\'s settings by their shapes', () => {
    const ok = (path: string, method: string, status: string) =>
      doc.paths[path]![method]!.responses![status]!.content!['application/json']!.schema;
    const endpoint = ok('/v1/tenants/{tenantId}/endpoints/{endpointId}', 'get', '200');
    const text = JSON.stringify(endpoint);
    for (const word of ['hmac-sha256', 'standard', 'schedule', 'backoff', 'initialSeconds']) expect(text).toContain(word);
    const tenant = JSON.stringify(ok('/v1/tenants/{tenantId}', 'get', '200'));
    for (const word of ['endpointDefaults', 'envelope', 'timeoutMs']) expect(tenant).toContain(word);
  });

  it('the checker finds what it is for', () => {
    expect(untyped({ type: 'object', properties: { signature: {} } }, 'x')).toEqual(['x.signature: no type']);
    expect(untyped({ type: 'object', properties: { settings: { type: 'object' } } }, 'x')).toEqual(['x.settings: object without properties']);
    expect(untyped({ type: 'array', items: { anyOf: [{ type: 'string' }, {}] } }, 'x')).toEqual(['x[]|1: no type']);
    expect(untyped({ type: 'object', properties: { payload: { 'x-any-json': true } } }, 'x')).toEqual([]);
  });
});
