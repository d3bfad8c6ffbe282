import type { Queryable } from '../db/db.js';
import type { Template } from '../delivery/envelope.js';

export interface EventType {
  name: string;
  description: string | null;
  schema: Record<string, unknown> | null;
  /** Body template for events of this type; overrides the tenant's. */
  envelope: Template | null;
  createdAt: string;
  updatedAt: string;
}

interface EventTypeRow {
  name: string;
  description: string | null;
  schema: Record<string, unknown> | null;
  envelope: Template | null;
  created_at: Date;
  updated_at: Date;
}

const toEventType = (r: EventTypeRow): EventType => ({
  name: r.name,
  description: r.description,
  schema: r.schema,
  envelope: r.envelope,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** Inserts an event type; returns null when the name exists. */
export async function insertEventType(
  q: Queryable,
  e: { name: string; description?: string; schema?: Record<string, unknown>; envelope?: Template },
): Promise<EventType | null> {
  const res = await q.query<EventTypeRow>(
    `insert into event_types (name, description, schema, envelope) values ($1, $2, $3, $4) on conflict (name) do nothing returning *`,
    [e.name, e.description ?? null, e.schema === undefined ? null : JSON.stringify(e.schema), e.envelope === undefined ? null : JSON.stringify(e.envelope)],
  );
  return res.rows[0] ? toEventType(res.rows[0]) : null;
}

export async function updateEventType(
  q: Queryable,
  name: string,
  patch: { description?: string; schema?: Record<string, unknown> | null; envelope?: Template | null },
): Promise<EventType | null> {
  const res = await q.query<EventTypeRow>(
    `update event_types set
       description = case when $2 then $3 else description end,
       schema = case when $4 then $5::jsonb else schema end,
       envelope = case when $6 then $7::jsonb else envelope end,
       updated_at = now()
     where name = $1 returning *`,
    [
      name,
      patch.description !== undefined,
      patch.description ?? null,
      patch.schema !== undefined,
      patch.schema == null ? null : JSON.stringify(patch.schema),
      patch.envelope !== undefined,
      patch.envelope == null ? null : JSON.stringify(patch.envelope),
    ],
  );
  return res.rows[0] ? toEventType(res.rows[0]) : null;
}

export async function getEventType(q: Queryable, name: string): Promise<EventType | null> {
  const res = await q.query<EventTypeRow>(`select * from event_types where name = $1`, [name], 'event_type_get');
  return res.rows[0] ? toEventType(res.rows[0]) : null;
}

export async function listEventTypes(q: Queryable): Promise<EventType[]> {
  const res = await q.query<EventTypeRow>(`select * from event_types order by name`);
  return res.rows.map(toEventType);
}

export async function deleteEventType(q: Queryable, name: string): Promise<boolean> {
  const res = await q.query(`delete from event_types where name = $1`, [name]);
  return res.rowCount > 0;
}
