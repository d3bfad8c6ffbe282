import type { Db } from '../../src/db/db.js';

/**
 * A day of past traffic for one endpoint, written straight into the tables,
 * so the charts in the screenshots show a day's shape rather than the one
 * minute the test ran. The API cannot backdate events, hence SQL; every row
 * is final (succeeded or failed), so the worker never picks one up.
 *
 * About 200 events over 24 h; one in twelve fails (502, or now and then a timeout);
 * latency follows the time of day.
 */
export async function seedHistory(db: Db, o: { tenantId: string; endpointId: string; url: string; type: string }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `insert into events (tenant_id, id, type, payload, created_at)
       select $1, 'evt_seed_' || lpad(n::text, 4, '0'), $2,
              json_build_object('page', '/pricing', 'visitor', 'v_' || n),
              now() - make_interval(mins => n * 7 + 2)
         from generate_series(1, 200) n`,
      [o.tenantId, o.type],
    );
    await tx.query(
      `insert into deliveries (id, tenant_id, event_id, endpoint_id, status, attempts, last_attempt_at, last_status, last_error, created_at, updated_at)
       select 'dlv_seed_' || lpad(n::text, 4, '0'), $1, 'evt_seed_' || lpad(n::text, 4, '0'), $2,
              case when n % 12 = 0 then 'failed' else 'succeeded' end, 1,
              now() - make_interval(mins => n * 7 + 2),
              case when n % 12 = 0 and n % 72 <> 0 then 502 when n % 12 = 0 then null else 200 end,
              case when n % 72 = 0 then 'timeout' end,
              now() - make_interval(mins => n * 7 + 2), now() - make_interval(mins => n * 7 + 2)
         from generate_series(1, 200) n`,
      [o.tenantId, o.endpointId],
    );
    await tx.query(
      `insert into attempts (id, delivery_id, tenant_id, endpoint_id, event_id, attempt_number, started_at, duration_ms,
                             request_url, request_headers, response_status, response_headers, response_body, error_code, error_message)
       select 'att_seed_' || lpad(n::text, 4, '0'), 'dlv_seed_' || lpad(n::text, 4, '0'), $1, $2, 'evt_seed_' || lpad(n::text, 4, '0'), 1,
              now() - make_interval(mins => n * 7 + 2),
              case when n % 72 = 0 then 5000
                   else (110 + 70 * sin(n / 32.0) + (n * 37 % 45) + case when n % 29 = 0 then 180 else 0 end)::int end,
              $3, '{"content-type": "application/json"}'::jsonb,
              case when n % 12 = 0 and n % 72 <> 0 then 502 when n % 12 = 0 then null else 200 end,
              case when n % 72 = 0 then null else '{"content-type": "text/plain"}'::jsonb end,
              case when n % 72 = 0 then null when n % 12 = 0 then 'Bad Gateway' else 'ok' end,
              case when n % 72 = 0 then 'timeout' end,
              case when n % 72 = 0 then 'no response within 5000 ms' end
         from generate_series(1, 200) n`,
      [o.tenantId, o.endpointId, o.url],
    );
  });
}
