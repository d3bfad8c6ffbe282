import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * Payload filters end to end: saved and checked through the API, applied
 * at fan-out (an event that does not match creates no delivery for that
 * endpoint), and tried on sample events.
 */

let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

const ISSUE_FILTER = { payload: { amount: { $gte: 100 }, currency: { $in: ['EUR', 'USD'] } } };

describe('fan-out', () => {
  it('delivers only the events an endpoint’s filter matches; other endpoints are unaffected', async () => {
    const t = await herald.api.tenant();
    const filtered = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/big'), filter: ISSUE_FILTER });
    expect(filtered.status).toBe(201);
    expect(filtered.body.filter).toEqual(ISSUE_FILTER);
    await herald.api.endpoint(t, { url: receiver.url('/all') });

    const cases: [Record<string, unknown>, boolean][] = [
      [{ amount: 250, currency: 'EUR' }, true],
      [{ amount: 100, currency: 'USD' }, true],
      [{ amount: 99.5, currency: 'EUR' }, false],
      [{ amount: 500, currency: 'GBP' }, false],
      [{ amount: '500', currency: 'EUR' }, false], // a string is not compared with a number
      [{ currency: 'EUR' }, false],
    ];
    for (const [payload, match] of cases) {
      const pub = await herald.api.publish(t, 'invoice.paid', payload);
      expect(pub.status).toBe(202);
      expect(pub.body.deliveries, JSON.stringify(payload)).toBe(match ? 2 : 1);
    }
    await receiver.waitForCount('/all', cases.length);
    await receiver.waitForCount('/big', 2);
    expect(receiver.at('/big').map((r) => JSON.parse(r.body))).toEqual(expect.arrayContaining([cases[0]![0], cases[1]![0]]));
  });

  it('filters on type, id and createdAt, and with $or, $not, $exists, $startsWith and $endsWith', async () => {
    const t = await herald.api.tenant();
    const ep = (filter: unknown) => herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url(`/f-${t}`), filter });
    await ep({ type: { $startsWith: 'order.' } });
    await ep({ $or: [{ payload: { vip: true } }, { payload: { email: { $endsWith: '@example.com' } } }] });
    await ep({ $not: { payload: { test: { $exists: true } } } });
    await ep({ id: 'ord-7', createdAt: { $gte: '2026-01-01T00:00:00.000Z' } });
    const count = async (type: string, payload: Record<string, unknown>, id?: string) => (await herald.api.publish(t, type, payload, id)).body.deliveries;
    expect(await count('order.created', { test: 1 })).toBe(1); // type only
    expect(await count('invoice.paid', { vip: true, test: 1 })).toBe(1); // $or only
    expect(await count('invoice.paid', { email: 'a@example.com' })).toBe(2); // $or, $not
    expect(await count('invoice.paid', { email: 'a@example.com.evil' })).toBe(1); // $not only
    expect(await count('invoice.paid', { test: 1 }, 'ord-7')).toBe(1); // id and createdAt only
  });

  it('compares payload numbers exactly beyond 2^53 (payloads are stored losslessly)', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/n'), filter: { payload: { n: { $gt: 9007199254740992 } } } });
    const publish = async (raw: string) =>
      (await herald.api.req('POST', `/v1/tenants/${t}/events`, `{"type":"a.b","payload":{"n":${raw}}}`)).body.deliveries;
    expect(await publish('9007199254740993')).toBe(1); // a double would read 9007199254740992: not greater
    expect(await publish('9007199254740992')).toBe(0);
  });

  it('keys and values are data, never jsonpath syntax', async () => {
    const t = await herald.api.tenant();
    const hostileKey = 'a" || true || "';
    await herald.api.endpoint(t, { url: receiver.url('/inj'), filter: { payload: { [hostileKey]: { $endsWith: '.*")||true||("' } } } });
    expect((await herald.api.publish(t, 'a.b', { a: 'x' })).body.deliveries).toBe(0);
    expect((await herald.api.publish(t, 'a.b', { [hostileKey]: 'x.*")||true||("' })).body.deliveries).toBe(1);
    expect((await herald.api.publish(t, 'a.b', { [hostileKey]: 'x.a")||true||("' })).body.deliveries).toBe(0); // `.*` is literal
  });

  it('a test event goes to its endpoint whatever the filter', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/test-ev'), filter: { payload: { never: true } } });
    expect((await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/test`)).status).toBe(202);
  });
});

describe('saving', () => {
  it('is editable: PATCH replaces the filter, null removes it, {} is none', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/edit'), filter: ISSUE_FILTER });
    const path = `/v1/tenants/${t}/endpoints/${ep.id}`;
    expect((await herald.api.get(path)).body.filter).toEqual(ISSUE_FILTER);
    expect((await herald.api.publish(t, 'a.b', { amount: 1 })).body.deliveries).toBe(0);
    const patched = await herald.api.patch(path, { filter: { payload: { amount: { $lt: 10 } } } });
    expect(patched.status).toBe(200);
    expect(patched.body.filter).toEqual({ payload: { amount: { $lt: 10 } } });
    expect((await herald.api.publish(t, 'a.b', { amount: 1 })).body.deliveries).toBe(1);
    expect((await herald.api.patch(path, { description: 'kept' })).body.filter).toEqual({ payload: { amount: { $lt: 10 } } });
    expect((await herald.api.patch(path, { filter: null })).body.filter).toBeNull();
    expect((await herald.api.publish(t, 'a.b', { amount: 50 })).body.deliveries).toBe(1);
    expect((await herald.api.patch(path, { filter: {} })).body.filter).toBeNull();
  });

  it('refuses bad filters with a 400 naming the operator or path', async () => {
    const t = await herald.api.tenant();
    const cases: [unknown, string, RegExp][] = [
      [{ payload: { amount: { $regex: '^1' } } }, 'filter.payload.amount.$regex', /unknown operator \$regex/],
      [{ type: { name: 'x' } }, 'filter.type.name', /type is a string/],
      [{ amount: 5 }, 'filter.amount', /no field amount/],
      [{ payload: { a: { $gt: 1, b: 2 } } }, 'filter.payload.a', /mixes operators/],
      [{ payload: { a: { $in: 'EUR' } } }, 'filter.payload.a.$in', /non-empty array/],
      [{ payload: { a: { $gt: { x: 1 } } } }, 'filter.payload.a.$gt', /number or a string/],
      [{ payload: { a: { $eq: [1] } } }, 'filter.payload.a.$eq', /string, number, boolean or null/],
      [{ payload: { a: [1, 2] } }, 'filter.payload.a', /\$in/],
      [{ payload: { a: { $exists: 'yes' } } }, 'filter.payload.a.$exists', /true or false/],
      [{ $or: [] }, 'filter.$or', /non-empty array/],
      [{ $and: [5] }, 'filter.$and[0]', /object/],
      [{ $gte: 5 }, 'filter.$gte', /needs a path/],
      [{ payload: { a: {} } }, 'filter.payload.a', /empty object/],
      [{ payload: { a: { $in: Array.from({ length: 90 }, () => 'x'.repeat(200)) } } }, 'filter', /at most 16384 characters/],
      [{ $and: [{}] }, 'filter.$and[0]', /empty object/],
      [{ payload: { a: { $not: {} } } }, 'filter.payload.a.$not', /empty object/],
      [{ payload: { a: { $in: Array.from({ length: 101 }, (_, i) => i) } } }, 'filter.payload.a.$in', /at most 100/],
    ];
    for (const [filter, field, message] of cases) {
      const res = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/bad'), filter });
      expect(res.status, JSON.stringify(filter)).toBe(400);
      expect(res.body.error.details[0].field, JSON.stringify(res.body)).toBe(field);
      expect(res.body.error.message).toMatch(message);
    }
    const notObject = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/bad'), filter: [1] });
    expect(notObject.status).toBe(400);
    expect(JSON.stringify(notObject.body)).toContain('filter');
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints`)).body.data).toHaveLength(0);
  });
});

describe('POST …/endpoints/:id/filter/test', () => {
  it('answers matches and the reason, for the saved filter or one about to be saved', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/try'), filter: ISSUE_FILTER });
    const test = (body: unknown) => herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/filter/test`, body);

    const yes = await test({ event: { type: 'invoice.paid', payload: { amount: 250, currency: 'EUR' } } });
    expect(yes.status).toBe(200);
    expect(yes.body).toEqual({ matches: true, reason: 'every condition holds' });

    const no = await test({ event: { payload: { amount: 50, currency: 'EUR' } } });
    expect(no.body).toEqual({ matches: false, reason: 'payload.amount is 50: not ≥ 100' });

    const wrongType = await test({ event: { payload: { amount: '250', currency: 'EUR' } } });
    expect(wrongType.body.matches).toBe(false);
    expect(wrongType.body.reason).toMatch(/a string is not compared with a number/);

    const unsaved = await test({ event: { payload: { amount: 50 } }, filter: { payload: { amount: { $lt: 100 } } } });
    expect(unsaved.body).toEqual({ matches: true, reason: 'payload.amount is 50: < 100' });

    const none = await test({ event: { payload: {} }, filter: null });
    expect(none.body.matches).toBe(true);

    const bad = await test({ event: { payload: {} }, filter: { payload: { a: { $like: 'x' } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('filter.payload.a.$like');

    expect((await herald.api.post(`/v1/tenants/${t}/endpoints/ep_missing/filter/test`, { event: {} })).status).toBe(404);
  });
});
