import { listAuditEvents } from '../db/audit-queries.js';
import { requireViewer, type Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';
import { checkFirst, decodeCursor, pageOf, type Page } from './pagination.js';
import { auditEventView, type AuditEventView } from './views.js';

/** createAuditService reads the audit log (services write it inside their own transactions). */
export function createAuditService(deps: ServiceDeps) {
  return {
    /** listAuditLog pages the audit log, newest first. */
    async listAuditLog(caller: Caller, args: { first: number; after?: string | null }): Promise<Page<AuditEventView>> {
      requireViewer(caller);
      const first = checkFirst(args.first);
      const beforeId = decodeCursor('audit', args.after);
      const rows = await listAuditEvents(deps.db, { limit: first + 1, beforeId });
      return pageOf(rows, first, 'audit', (r) => r.id, auditEventView);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
