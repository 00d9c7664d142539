import { listAuditEvents } from '../db/audit-queries.js';
import { requireViewer, type Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';
import { checkPage, pageOf, readPage, type Page, type PageArgs } from './pagination.js';
import { auditEventView, type AuditEventView } from './views.js';

/** createAuditService reads the audit log (services write it inside their own transactions). */
export function createAuditService(deps: ServiceDeps) {
  return {
    /** listAuditLog pages the audit log, newest first (last/before page back towards the newest). */
    async listAuditLog(caller: Caller, args: PageArgs): Promise<Page<AuditEventView>> {
      requireViewer(caller);
      const page = checkPage('audit', args);
      const { rows, behind } = await readPage(page, 'desc', (k) => listAuditEvents(deps.db, k));
      return pageOf(rows, page, behind, 'audit', (r) => r.id, auditEventView);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
