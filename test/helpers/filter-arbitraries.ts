import fc from 'fast-check';

/*
 * Random events and payload filters over a small, hostile vocabulary, so
 * that generated filters often hit generated payloads: keys with quotes,
 * backslashes, dots, `$`, spaces and non-ASCII; strings full of regex and
 * jsonpath metacharacters and astral characters; values of every JSON type
 * at the same keys (numbers against strings, arrays where a path goes on).
 */

const KEYS = ['a', 'b', 'amount', 'currency', 'x"y', 'back\\slash', 'dot.ted', 'sp ace', 'ü', '😀', '@', 'strict', 'like_regex'];
const CHARS = ['a', 'b', 'E', 'U', 'R', '.', '*', '$', '^', '\\', '"', "'", '(', ')', '[', ']', '{', '}', '|', '?', '+', '-', ' ', '\n', 'é', '😀', '\uffff', '0', '9'];

export const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 6 }).map((cs) => cs.join(''));
const key = fc.constantFrom(...KEYS);
const number = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.constantFrom(0.1, 0.5, 1.5, 1e-7, 9007199254740991),
);
export const scalar = fc.oneof(number, text, fc.boolean(), fc.constant(null));

/** A JSON value as payloads hold them. */
export const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', maxDepth: 4, withCrossShrink: true },
    scalar,
    fc.array(scalar, { maxLength: 3 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4 }),
  ),
})).v;

export const payload = fc.dictionary(key, value, { maxKeys: 5 }) as fc.Arbitrary<Record<string, unknown>>;

export const event = fc.record({
  id: fc.constantFrom('evt_1', 'evt_2', 'a.b'),
  type: fc.constantFrom('order.paid', 'order.created', 'invoice.paid', ''),
  createdAt: fc.constantFrom('2026-01-01T00:00:00.000Z', '2026-12-02T03:04:05.678Z'),
  payload,
});

const operator = fc.oneof(
  fc.record({ $eq: scalar }),
  fc.record({ $neq: scalar }),
  fc.record({ $gt: fc.oneof(number, text) }),
  fc.record({ $gte: fc.oneof(number, text) }),
  fc.record({ $lt: fc.oneof(number, text) }),
  fc.record({ $lte: fc.oneof(number, text) }),
  fc.record({ $in: fc.array(scalar, { minLength: 1, maxLength: 4 }) }),
  fc.record({ $nin: fc.array(scalar, { minLength: 1, maxLength: 4 }) }),
  fc.record({ $startsWith: text }),
  fc.record({ $endsWith: text }),
  fc.record({ $exists: fc.boolean() }),
);

/** A condition at some path below payload (plain values, operators, nested keys, $and/$or/$not). */
const condition: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', maxDepth: 4, withCrossShrink: true },
    scalar,
    operator,
    fc.dictionary(key, tie('c'), { minKeys: 1, maxKeys: 2 }),
    fc.record({ $and: fc.array(tie('o'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ $or: fc.array(tie('o'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ $not: tie('c') }),
  ),
  // what $and / $or entries are: objects (operators or keys), never a bare value
  o: fc.oneof({ depthSize: 'small', maxDepth: 4 }, operator, fc.dictionary(key, tie('c'), { minKeys: 1, maxKeys: 2 })),
})).c;

/** A filter: conditions on the event's own fields and on payload paths. */
export const filter = fc.oneof(
  fc.record({ payload: fc.dictionary(key, condition, { minKeys: 1, maxKeys: 3 }) }),
  fc.record({ type: fc.oneof(scalar, operator) }, { requiredKeys: [] }).chain((t) =>
    fc.record({ payload: fc.dictionary(key, condition, { minKeys: 1, maxKeys: 2 }) }).map((p) => ({ ...t, ...p })),
  ),
  fc.record({ $or: fc.array(fc.record({ payload: fc.dictionary(key, condition, { minKeys: 1, maxKeys: 2 }) }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ $not: fc.record({ payload: fc.dictionary(key, condition, { minKeys: 1, maxKeys: 2 }) }) }),
  fc.record({ id: fc.oneof(scalar, operator), createdAt: fc.record({ $gte: fc.constantFrom('2026-06-01', '2026-12-02T03:04:05.678Z') }) }),
) as fc.Arbitrary<Record<string, unknown>>;
