/**
 * An example payload for an event type, from its JSON Schema: the schema's
 * own `examples`/`example`/`default`/`const` where given, else a plausible
 * value per type. Enough for a customer to see the shape of an event.
 */
type Schema = Record<string, unknown>;

export function exampleOf(schema: unknown, depth = 0): unknown {
  if (!schema || typeof schema !== 'object' || depth > 8) return null;
  const s = schema as Schema;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if ('example' in s) return s.example;
  if ('const' in s) return s.const;
  if ('default' in s) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  for (const k of ['oneOf', 'anyOf'] as const) {
    const list = s[k];
    if (Array.isArray(list) && list.length) return exampleOf(list[0], depth + 1);
  }
  if (Array.isArray(s.allOf)) {
    return Object.assign({}, ...s.allOf.map((x) => exampleOf(x, depth + 1)).filter((x) => x && typeof x === 'object'));
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object':
    case undefined: {
      const props = s.properties as Record<string, unknown> | undefined;
      if (!props) return type === 'object' ? {} : null;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(props)) out[k] = exampleOf(v, depth + 1);
      return out;
    }
    case 'array':
      return s.items ? [exampleOf(s.items, depth + 1)] : [];
    case 'string':
      switch (s.format) {
        case 'date-time':
          return '2024-05-01T12:00:00Z';
        case 'date':
          return '2024-05-01';
        case 'email':
          return 'jane@example.com';
        case 'uri':
        case 'url':
          return 'https://example.com/';
        case 'uuid':
          return '3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b';
        default:
          return typeof s.minLength === 'number' && s.minLength > 6 ? 'x'.repeat(s.minLength) : 'string';
      }
    case 'integer':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1.5;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return null;
  }
}
