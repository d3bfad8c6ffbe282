import type { Queryable } from '../db/db.js';

export interface EventType {
  name: string;
  description: string | null;
  schema: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

interface EventTypeRow {
  name: string;
  description: string | null;
  schema: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
}

const toEventType = (r: EventTypeRow): EventType => ({
  name: r.name,
  description: r.description,
  schema: r.schema,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** Inserts an event type; returns null when the name exists. */
export async function insertEventType(
  q: Queryable,
  e: { name: string; description?: string; schema?: Record<string, unknown> },
): Promise<EventType | null> {
  const res = await q.query<EventTypeRow>(
    `insert into event_types (name, description, schema) values ($1, $2, $3) on conflict (name) do nothing returning *`,
    [e.name, e.description ?? null, e.schema === undefined ? null : JSON.stringify(e.schema)],
  );
  return res.rows[0] ? toEventType(res.rows[0]) : null;
}

export async function updateEventType(
  q: Queryable,
  name: string,
  patch: { description?: string; schema?: Record<string, unknown> | null },
): Promise<EventType | null> {
  const res = await q.query<EventTypeRow>(
    `update event_types set
       description = case when $2 then $3 else description end,
       schema = case when $4 then $5::jsonb else schema end,
       updated_at = now()
     where name = $1 returning *`,
    [
      name,
      patch.description !== undefined,
      patch.description ?? null,
      patch.schema !== undefined,
      patch.schema == null ? null : JSON.stringify(patch.schema),
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
