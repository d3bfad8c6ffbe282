import type { Queryable } from '../db/db.js';

export interface AuditEntry {
  tenantId: string | null;
  /** Who did it: `admin`, `token:<id>`, `system`. */
  actor: string;
  /** e.g. `endpoint.created`, `endpoint.secret_rotated`, `webhook.failed`. */
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  id: string;
  tenantId: string | null;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

interface AuditRow {
  id: string | number;
  tenant_id: string | null;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
  created_at: Date;
}

export async function recordAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    `insert into audit_log (tenant_id, actor, action, target_type, target_id, details) values ($1, $2, $3, $4, $5, $6)`,
    [e.tenantId, e.actor, e.action, e.targetType ?? null, e.targetId ?? null, JSON.stringify(e.details ?? {})],
  );
}

/** Newest first; `before` is the id of the last entry of the previous page. */
export async function listAudit(
  q: Queryable,
  tenantId: string,
  opts: { limit: number; before?: string; action?: string },
): Promise<AuditRecord[]> {
  const res = await q.query<AuditRow>(
    `select id::text as id, tenant_id, actor, action, target_type, target_id, details, created_at from audit_log
      where tenant_id = $1 and ($2::bigint is null or id < $2::bigint) and ($3::text is null or action = $3)
      order by audit_log.id desc limit $4`,
    [tenantId, opts.before ?? null, opts.action ?? null, opts.limit],
  );
  return res.rows.map((r) => ({
    id: String(r.id),
    tenantId: r.tenant_id,
    actor: r.actor,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details: r.details,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}
