import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/**
 * Issue 11, item 8: a number is either carried exactly everywhere (the
 * delivered body, the event log) or refused with a 400 naming its path.
 * Before: 1e400 was delivered as null and passed an `integer` schema, and
 * the event log showed 1.2345678901234568e+29 for a delivered
 * 123456789012345678901234567890.
 */
let herald: TestHerald;
let receiver: Receiver;
let T: string;

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  T = await herald.api.tenant('Numbers');
  await herald.api.endpoint(T, { url: receiver.url('/n'), eventTypes: ['num.*'] });
  await herald.api.post('/v1/event-types', { name: 'num.strict', schema: { type: 'object', properties: { n: { type: 'integer' } } } });
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

const raw = async (path: string, body?: string) => {
  const r = await fetch(herald.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });
  return { status: r.status, text: await r.text() };
};
const events = async () => Number((await herald.running.db.query<{ n: number }>(`select count(*)::int as n from events where tenant_id = $1`, [T])).rows[0]!.n);

describe('numbers are carried exactly or refused', () => {
  it('refuses numbers no double can hold, naming their path, and stores nothing', async () => {
    const before = await events();
    const cases: [string, string][] = [
      ['{"type":"num.strict","payload":{"n":1e400}}', 'payload.n'],
      ['{"type":"num.any","payload":{"a":[1,-1E+400]}}', 'payload.a[1]'],
      ['{"type":"num.any","payload":{"deep":{"x":1e-400}}}', 'payload.deep.x'],
    ];
    for (const [body, field] of cases) {
      const r = await raw(`/v1/tenants/${T}/events`, body);
      expect(r.status, body).toBe(400);
      const err = JSON.parse(r.text).error;
      expect(err.message.startsWith(`${field}: `), err.message).toBe(true);
      expect(err.details[0].field).toBe(field);
    }
    const batch = await raw(`/v1/tenants/${T}/events/batch`, '{"events":[{"type":"num.any","payload":{"ok":1}},{"type":"num.any","payload":{"n":2e308}}]}');
    expect(batch.status).toBe(400);
    expect(JSON.parse(batch.text).error.message).toMatch(/^events\[1\]\.payload\.n: 2e308 is beyond the range of a double/);
    expect(await events()).toBe(before);
  });

  it('delivers and shows big integers and long decimals digit for digit', async () => {
    const body = '{"type":"num.any","payload":{"big":123456789012345678901234567890,"dec":0.12345678901234567890123,"neg":-98765432109876543210,"small":1.5}}';
    const pub = await raw(`/v1/tenants/${T}/events`, body);
    expect(pub.status).toBe(202);
    const id = JSON.parse(pub.text).id as string;
    const expected = '{"big":123456789012345678901234567890,"dec":0.12345678901234567890123,"neg":-98765432109876543210,"small":1.5}';
    await receiver.waitForCount('/n', 1);
    expect(receiver.at('/n').find((r) => r.headers['webhook-id'] === id)!.body).toBe(expected);

    const one = await raw(`/v1/tenants/${T}/events/${id}`);
    expect(one.status).toBe(200);
    expect(one.text).toContain(`"payload":${expected}`);
    const list = await raw(`/v1/tenants/${T}/events?limit=10`);
    expect(list.text).toContain(`"payload":${expected}`);
    expect(JSON.parse(list.text).data.length).toBeGreaterThan(0);
    // an ordinary event in the same list still reads as JSON
    expect(JSON.parse(one.text)).toMatchObject({ id, tenantId: T, type: 'num.any' });
  });

  it('finds an unsafe number behind long numbers that are safe, and delivers those as they came', async () => {
    // Long but safe numbers (what JavaScript and Python print for many doubles) take the
    // ordinary parse; an unsafe one anywhere after them, or after digits inside a string,
    // must still be found and kept digit for digit.
    const cases = [
      '{"t":1796402089192.4568,"f":0.30000000000000004,"big":123456789012345678901234567890}',
      '{"ref":"ab0.30000000000000004","at":52.520006599999995,"amount":-98765432109876543210}',
      '{"a":[0.1234567890123456,1e-7,2.5e+100],"deep":{"n":0.12345678901234567890123}}',
      '{"safe":[1796402089192.4568,0.30000000000000004,-0.000000000000000001234],"s":"x"}',
    ];
    for (const payload of cases) {
      const pub = await raw(`/v1/tenants/${T}/events`, `{"type":"num.any","payload":${payload}}`);
      expect(pub.status, payload).toBe(202);
      const id = JSON.parse(pub.text).id as string;
      await receiver.waitFor(() => receiver.at('/n').some((r) => r.headers['webhook-id'] === id));
      const delivered = receiver.at('/n').find((r) => r.headers['webhook-id'] === id)!.body;
      // what JSON.stringify writes of the parsed value where that is exact, the digits as sent where not
      expect(delivered, payload).toBe(payload.replace('0.30000000000000004,-0.000000000000000001234', '0.30000000000000004,-1.234e-18'));
    }
  });

  it('still validates an integer schema against what can be carried', async () => {
    expect((await raw(`/v1/tenants/${T}/events`, '{"type":"num.strict","payload":{"n":12345678901234567890123}}')).status).toBe(202);
    expect((await raw(`/v1/tenants/${T}/events`, '{"type":"num.strict","payload":{"n":1.5}}')).status).toBe(422);
  });
});
