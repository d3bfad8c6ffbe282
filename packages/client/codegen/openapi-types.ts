/**
 * Writes TypeScript types for every route of an OpenAPI 3.1 document:
 * `Routes['POST /v1/tenants/{tenantId}/events']` holds the route's path
 * parameters, query, body and success response. Herald's document is made
 * from its route schemas, so these types are exactly what the server
 * validates and answers.
 *
 * Why our own and not openapi-typescript: it wants TypeScript 5 as a peer
 * (Herald builds with 6), and Herald's schemas use a small part of JSON
 * Schema (objects, arrays, anyOf, enums, nullable, free JSON marked
 * `x-any-json`), which this covers in a page. Anything outside that part
 * throws, naming where; only a schema with no type at all (JSON Schema's
 * "anything") becomes `unknown`.
 */
type Schema = Record<string, unknown>;

interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function generateTypes(doc: OpenApiDocument, only: (path: string) => boolean = (p) => p.startsWith('/v1/')): string {
  const toType = (schema: Schema, at: string, indent: string): string => typeOf(doc, schema, at, indent);
  const lines = [
    '// Generated from /openapi.json by packages/client/codegen/openapi-types.ts; do not edit.',
    '// Regenerate: UPDATE_GENERATED=1 npx vitest run packages/client/test/generated.test.ts',
    '',
    '/** Every route: its path parameters, query, request body and success response. */',
    'export interface Routes {',
  ];
  for (const path of Object.keys(doc.paths).filter(only).sort()) {
    for (const method of METHODS) {
      const op = doc.paths[path]![method];
      if (!op) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const params = (kind: string) => {
        const ps = (op.parameters ?? []).filter((p) => p.in === kind);
        if (ps.length === 0) return 'never';
        return `{ ${ps.map((p) => `${prop(p.name)}${p.required ? '' : '?'}: ${toType(p.schema, `${key} ${kind} ${p.name}`, '    ')}`).join('; ')} }`;
      };
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      const body = bodySchema ? toType(bodySchema, `${key} body`, '    ') + (op.requestBody?.required ? '' : ' | undefined') : 'never';
      const ok = Object.entries(op.responses ?? {}).find(([status]) => /^2\d\d$/.test(status));
      const okSchema = ok?.[1].content?.['application/json']?.schema;
      const response = okSchema ? toType(okSchema, `${key} response`, '    ') : 'void';
      lines.push(
        `  ${JSON.stringify(key)}: {`,
        `    params: ${params('path')};`,
        `    query: ${params('query')};`,
        `    body: ${body};`,
        `    /** ${ok?.[0] ?? '204'} */`,
        `    response: ${response};`,
        '  };',
      );
    }
  }
  lines.push('}', '');
  return lines.join('\n');
}

function typeOf(doc: OpenApiDocument, s: Schema, at: string, indent: string): string {
  const inner = indent + '  ';
  const nullable = s.nullable === true ? ' | null' : '';
  if (typeof s.$ref === 'string') {
    const target = doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')];
    if (!target) throw new Error(`${at}: dangling ${s.$ref}`);
    return typeOf(doc, target, at, indent);
  }
  if (s['x-any-json'] === true) return (s.type === 'object' ? 'Record<string, unknown>' : 'unknown') + nullable;
  for (const k of ['anyOf', 'oneOf'] as const) {
    // OpenAPI 3.1 (JSON Schema) spells "nullable" as a union with {type: 'null'}: `X | null`, as 3.0's `nullable` read.
    const orNull = nullableBranch(s[k]);
    if (orNull) return `${typeOf(doc, orNull, `${at}|0`, indent)} | null${nullable}`;
    if (Array.isArray(s[k])) return `(${(s[k] as Schema[]).map((x, i) => typeOf(doc, x, `${at}|${i}`, indent)).join(' | ')})${nullable}`;
  }
  if (Array.isArray(s.allOf)) return `(${(s.allOf as Schema[]).map((x, i) => typeOf(doc, x, `${at}&${i}`, indent)).join(' & ')})${nullable}`;
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ') + nullable;
  if ('const' in s) return JSON.stringify(s.const) + nullable;
  // No type at all is JSON Schema's "anything" (request fields such as a payload's values).
  if (s.type === undefined && Object.keys(s).every((k) => k === 'description' || k === 'default')) return 'unknown';
  switch (s.type) {
    case 'null':
      return 'null';
    case 'string':
      return 'string' + nullable;
    case 'integer':
    case 'number':
      return 'number' + nullable;
    case 'boolean':
      return 'boolean' + nullable;
    case 'array':
      if (!s.items) throw new Error(`${at}: array without items`);
      return `Array<${typeOf(doc, s.items as Schema, `${at}[]`, indent)}>` + nullable;
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set((s.required ?? []) as string[]);
      const members = Object.entries(props).map(([name, p]) => {
        const text = describe(p);
        const doc_ = text ? `${inner}/** ${text.replace(/\*\//g, '* /')} */\n` : '';
        return `${doc_}${inner}${prop(name)}${required.has(name) ? '' : '?'}: ${typeOf(doc, p, `${at}.${name}`, inner)};`;
      });
      const open = [
        ...(typeof s.additionalProperties === 'object' ? [s.additionalProperties as Schema] : []),
        ...Object.values((s.patternProperties ?? {}) as Record<string, Schema>),
      ];
      if (open.length > 0) members.push(`${inner}[key: string]: ${open.map((x, i) => typeOf(doc, x, `${at}[*${i}]`, inner)).join(' | ')};`);
      if (members.length === 0) return 'Record<string, never>' + nullable;
      return `{\n${members.join('\n')}\n${indent}}` + nullable;
    }
    default:
      throw new Error(`${at}: a schema this generator does not know (${JSON.stringify(s).slice(0, 120)})`);
  }
}

/** The one other branch of a union with `{type: 'null'}`, or null when `union` is not such a pair. */
function nullableBranch(union: unknown): Schema | null {
  if (!Array.isArray(union) || union.length !== 2) return null;
  const [a, b] = union as Schema[];
  if (b?.type === 'null' && a?.type !== 'null') return a!;
  if (a?.type === 'null' && b?.type !== 'null') return b!;
  return null;
}

/** A property's description: its own, or that of the non-null branch of a nullable union (where 3.1 keeps it). */
function describe(p: Schema): string | undefined {
  if (typeof p.description === 'string') return p.description;
  const branch = nullableBranch(p.anyOf) ?? nullableBranch(p.oneOf);
  return typeof branch?.description === 'string' ? branch.description : undefined;
}

const prop = (name: string) => (IDENTIFIER.test(name) ? name : JSON.stringify(name));
