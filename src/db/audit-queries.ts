import { sql } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { keysetOrder, keysetWhere, type Keyset } from './keyset.js';
import { auditEvents } from './schema.js';

export type AuditEventRow = typeof auditEvents.$inferSelect;

/** insertAuditEvent writes one audit record, normally inside the transaction it describes. */
export async function insertAuditEvent(
  tx: DbExecutor,
  event: { actor: string; action: string; targetId?: string | null; details?: unknown; at: Date },
): Promise<void> {
  await tx.insert(auditEvents).values({
    actor: event.actor,
    action: event.action,
    targetId: event.targetId ?? null,
    details: event.details === undefined ? null : JSON.stringify(event.details),
    at: event.at,
  });
}

/** listAuditEvents reads a page of the audit log by id (see Keyset; the log's own order is newest first, descending). */
export async function listAuditEvents(db: DbExecutor, params: Keyset): Promise<AuditEventRow[]> {
  return db
    .select()
    .from(auditEvents)
    .where(keysetWhere(auditEvents.id, params))
    .orderBy(keysetOrder(auditEvents.id, params))
    .limit(params.limit);
}

/** insertAuditEvents writes several audit records in one statement. */
export async function insertAuditEvents(
  tx: DbExecutor,
  events: { actor: string; action: string; targetId?: string | null; details?: unknown; at: Date }[],
): Promise<void> {
  if (events.length === 0) return;
  // One jsonb parameter for the whole batch (a batch of approvals is a hundred rows): the statement
  // stays a few chunks for drizzle to build, whatever the batch's size.
  const rows = JSON.stringify(
    events.map((e) => ({
      actor: e.actor,
      action: e.action,
      target_id: e.targetId ?? null,
      details: e.details === undefined ? null : JSON.stringify(e.details),
      at: e.at.toISOString(),
    })),
  );
  await tx.execute(sql`
    insert into audit_events (actor, action, target_id, details, at)
    select e.v->>'actor', e.v->>'action', e.v->>'target_id', e.v->>'details', (e.v->>'at')::timestamptz
    from jsonb_array_elements(${rows}::jsonb) with ordinality as e(v, ord)
    order by e.ord`);
}
