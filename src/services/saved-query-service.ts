import { insertAuditEvent } from '../db/audit-queries.js';
import {
  deleteSavedQueryOfOwner,
  getSavedQueryById,
  listSavedQueriesOfOwner,
  upsertChartQuery,
} from '../db/saved-query-queries.js';
import { AUTH_STATUSES, STATUS_LABELS, type AuthStatus } from '../domain/statuses.js';
import { badInput, notFound } from './app-error.js';
import { requireAdmin, requireViewer, type Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';
import type { DevicePage, DeviceService } from './device-service.js';
import { parseId } from './input-checks.js';
import type { PageArgs } from './pagination.js';
import { transact } from './transaction.js';
import { savedQueryView, type SavedQueryView } from './views.js';

/** CHART_QUERY_FOLDER is where the chart's double-click saves its queries. */
export const CHART_QUERY_FOLDER = ['My queries', 'Chart-generated queries'];

/** createSavedQueryService keeps each user's saved device queries. */
export function createSavedQueryService(deps: ServiceDeps & { devices: DeviceService }) {
  const { db } = deps;

  async function ownQuery(caller: Caller, id: string) {
    const row = await getSavedQueryById(db, parseId(id));
    // Someone else's query is as good as absent: its existence is not the caller's business.
    if (!row || row.owner !== caller.subject) throw notFound('saved query', id);
    return row;
  }

  return {
    /** createChartQuery saves (or refreshes) the caller's query for one chart item. */
    async createChartQuery(caller: Caller, status: AuthStatus): Promise<SavedQueryView> {
      requireAdmin(caller);
      if (!AUTH_STATUSES.includes(status)) throw badInput(`unknown status ${status}`, 'status');
      const now = deps.clock();
      const row = await transact(deps, async (tx) => {
        const { row, inserted } = await upsertChartQuery(tx, {
          owner: caller.subject,
          authStatus: status,
          name: STATUS_LABELS[status],
          folder: CHART_QUERY_FOLDER,
          at: now,
        });
        await insertAuditEvent(tx, {
          actor: caller.subject,
          action: inserted ? 'savedQuery.created' : 'savedQuery.refreshed',
          targetId: String(row.id),
          details: { authStatus: status },
          at: now,
        });
        return row;
      });
      return savedQueryView(row);
    },

    /** listMyQueries lists the caller's saved queries. */
    async listMyQueries(caller: Caller): Promise<SavedQueryView[]> {
      requireViewer(caller);
      return (await listSavedQueriesOfOwner(db, caller.subject)).map(savedQueryView);
    },

    /** getSavedQuery reads one of the caller's saved queries; anyone else's is NOT_FOUND. */
    async getSavedQuery(caller: Caller, id: string): Promise<SavedQueryView> {
      requireViewer(caller);
      return savedQueryView(await ownQuery(caller, id));
    },

    /** listDevicesOfQuery evaluates a saved query now. */
    async listDevicesOfQuery(
      caller: Caller,
      query: SavedQueryView,
      args: PageArgs,
    ): Promise<DevicePage> {
      const filter = query.authStatus ? { authStatus: [query.authStatus] } : {};
      return deps.devices.listDevices(caller, { filter, ...args });
    },

    /** deleteSavedQuery deletes one of the caller's saved queries. */
    async deleteSavedQuery(caller: Caller, id: string): Promise<boolean> {
      requireAdmin(caller);
      const dbId = parseId(id);
      const now = deps.clock();
      await transact(deps, async (tx) => {
        if (!(await deleteSavedQueryOfOwner(tx, dbId, caller.subject))) throw notFound('saved query', id);
        await insertAuditEvent(tx, { actor: caller.subject, action: 'savedQuery.deleted', targetId: id, at: now });
      });
      deps.log.info('saved query deleted', { action: 'savedQuery.deleted', actor: caller.subject, savedQueryId: id });
      return true;
    },
  };
}

export type SavedQueryService = ReturnType<typeof createSavedQueryService>;
