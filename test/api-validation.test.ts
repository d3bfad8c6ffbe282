import { afterAll, beforeAll, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';

let herald: TestHerald;
beforeAll(async () => { herald = await startHerald(); });
afterAll(async () => { await herald?.stop(); });

it('probe', async () => {
  const api = herald.api;
  const show = (label: string, r: any) => console.log(label, r.status, String(JSON.stringify(r.body)).slice(0, 300));
  const b = await api.tenant('B');
  show('surrogate payload mid', await api.publish(b, 'x.y', { a: 'x\ud800b' }));
  show('surrogate payload low', await api.publish(b, 'x.y', { a: 'x\udc00b' }));
  show('nul payload', await api.publish(b, 'x.y', { a: 'x\u0000' }));
  show('schema nul', await api.post('/v1/event-types', { name: 'a.b', schema: { description: 'x\u0000' } }));
  show('schema sur', await api.post('/v1/event-types', { name: 'a.c', schema: { description: 'x\ud800y' } }));
  show('audit action nul', await api.get(`/v1/tenants/${b}/audit-log?action=%00`));
  show('token name nul', await api.post(`/v1/tenants/${b}/tokens`, { name: 'a\u0000' }));
  const c = await api.tenant('C');
  show('pub c', await api.publish(c, 'x.y', {}));
  show('del c', await api.delete(`/v1/tenants/${c}`));
  show('pub c after delete', await api.publish(c, 'x.y', {}));
  show('limit 1.5', await api.get(`/v1/tenants/${b}/events?limit=1.5`));
  show('limit abc', await api.get(`/v1/tenants/${b}/events?limit=abc`));
  show('text/plain', await fetch(herald.url + `/v1/tenants/${b}/events`, { method: 'POST', headers: { authorization: 'Bearer test-admin-token-0123456789abcdef', 'content-type': 'text/plain' }, body: 'x' }).then(async (r) => ({ status: r.status, body: await r.text() })));
  show('no ct', await fetch(herald.url + `/v1/tenants/${b}/events`, { method: 'POST', headers: { authorization: 'Bearer test-admin-token-0123456789abcdef' } }).then(async (r) => ({ status: r.status, body: await r.text() })));
  show('no ct tokens', await fetch(herald.url + `/v1/tenants/${b}/tokens`, { method: 'POST', headers: { authorization: 'Bearer test-admin-token-0123456789abcdef' } }).then(async (r) => ({ status: r.status, body: await r.text() })));
});
