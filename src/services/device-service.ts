import { getCountersAndSwitch } from '../db/counter-queries.js';
import {
  countDevices,
  getDeviceById,
  getDevicesByIds,
  listCertificatesOfDevices,
  listConnectionHistories,
  listDevices,
  upsertDevices,
  type DeviceUpsert,
} from '../db/device-queries.js';
import { insertAuditEvent } from '../db/audit-queries.js';
import { adjustCounters } from '../db/counter-queries.js';
import { getCoreSettings } from '../db/settings-queries.js';
import { DEVICE_NAME_MAX_LENGTH } from '../domain/names.js';
import { AUTH_STATUSES, FAILURE_REASONS, type AuthStatus, type FailureReason } from '../domain/statuses.js';
import { badInput, notFound } from './app-error.js';
import { checkAgentVersionText } from './auth-status-rules.js';
import { requireAdmin, requireViewer, type Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';
import { checkAgentId, checkEnumList, checkSearch, checkText, parseId } from './input-checks.js';
import { checkPage, keysetsOf, pageOf, readPage, type Page, type PageArgs, type PageRequest } from './pagination.js';
import { transact } from './transaction.js';
import {
  clientCertificateView,
  connectionAttemptView,
  deviceView,
  type ClientCertificateView,
  type ConnectionAttemptView,
  type DeviceView,
} from './views.js';

export const MAX_DEVICES_PER_IMPORT = 1000;
/** The page size of a device's connectionHistory when the caller names neither first nor last. */
export const DEFAULT_HISTORY_PAGE_SIZE = 20;

export interface DeviceFilterInput {
  authStatus?: AuthStatus[] | null;
  /** Devices whose authStatus is AUTHENTICATION_FAILED for one of these reasons; AND-ed with the rest. */
  failureReasons?: FailureReason[] | null;
  search?: string | null;
}

export interface DeviceInput {
  name: string;
  agentId?: string | null;
  agentVersion?: string | null;
}

export type DevicePage = Page<DeviceView> & { totalCount: number };

/** createDeviceService is the device inventory: listing, drill-down, import. */
export function createDeviceService(deps: ServiceDeps) {
  const { db } = deps;

  function checkFilter(filter: DeviceFilterInput | null | undefined) {
    return {
      statuses: checkEnumList(filter?.authStatus, AUTH_STATUSES, 'filter.authStatus', 'status'),
      failureReasons: checkEnumList(filter?.failureReasons, FAILURE_REASONS, 'filter.failureReasons', 'failure reason'),
      search: checkSearch(filter?.search, 'filter.search'),
    };
  }

  return {
    /** listDevices pages the devices a filter matches; totalCount comes from the kept counters when it can. */
    async listDevices(
      caller: Caller,
      args: { filter?: DeviceFilterInput | null } & PageArgs,
    ): Promise<DevicePage> {
      requireViewer(caller);
      const page = checkPage('device', args);
      const filter = checkFilter(args.filter);
      const { counts, securityEnabled } = await getCountersAndSwitch(db);
      const { rows, behind } = await readPage(page, 'asc', (k) => listDevices(db, { ...filter, ...k }));
      const statuses: readonly AuthStatus[] = filter.statuses ?? AUTH_STATUSES;
      // The kept counters are by status only: a search or a failure reason needs a count.
      const totalCount = filter.search || filter.failureReasons
        ? await countDevices(db, filter)
        : statuses.reduce((n, s) => n + counts[s], 0);
      return {
        ...pageOf(rows, page, behind, 'device', (r) => r.id, (r) => deviceView(r, securityEnabled)),
        totalCount,
      };
    },

    /** getDevice reads one device; an unknown id is NOT_FOUND. */
    async getDevice(caller: Caller, id: string): Promise<DeviceView> {
      requireViewer(caller);
      const row = await getDeviceById(db, parseId(id));
      if (!row) throw notFound('device', id);
      const settings = await getCoreSettings(db);
      return deviceView(row, settings.clientCertificateSecurityEnabled);
    },

    /** loadDevices reads several devices for field resolvers (batched by a loader). */
    async loadDevices(ids: readonly number[]): Promise<Map<number, DeviceView>> {
      const [rows, settings] = await Promise.all([getDevicesByIds(db, ids), getCoreSettings(db)]);
      return new Map(rows.map((r) => [r.id, deviceView(r, settings.clientCertificateSecurityEnabled)]));
    },

    /** checkHistoryPage validates connectionHistory's arguments (newest first) before any query. */
    checkHistoryPage(args: PageArgs): PageRequest {
      return checkPage('attempt', args, DEFAULT_HISTORY_PAGE_SIZE);
    },

    /** loadConnectionHistories reads one history page for each of several devices in one query (and one for the probe). */
    async loadConnectionHistories(deviceIds: readonly number[], page: PageRequest): Promise<Map<number, Page<ConnectionAttemptView>>> {
      const k = keysetsOf(page, 'desc');
      const [rows, behind] = await Promise.all([
        listConnectionHistories(db, deviceIds, k.rows),
        k.probe ? listConnectionHistories(db, deviceIds, k.probe) : undefined,
      ]);
      const out = new Map<number, Page<ConnectionAttemptView>>();
      for (const id of deviceIds) {
        const found = (behind?.get(id)?.length ?? 0) > 0;
        out.set(id, pageOf(rows.get(id) ?? [], page, found, 'attempt', (r) => r.id, connectionAttemptView));
      }
      return out;
    },

    /** loadCertificates reads the client certificates of several devices in one query. */
    async loadCertificates(deviceIds: readonly number[]): Promise<Map<number, ClientCertificateView[]>> {
      const out = new Map<number, ClientCertificateView[]>(deviceIds.map((id) => [id, []]));
      for (const row of await listCertificatesOfDevices(db, deviceIds)) {
        out.get(row.deviceId)?.push(clientCertificateView(row));
      }
      return out;
    },

    /**
     * registerDevices imports devices all or nothing: one bad item writes none. A device already
     * known (same agent id, or same name without an agent) is updated, not duplicated.
     */
    async registerDevices(caller: Caller, inputs: DeviceInput[]): Promise<DeviceView[]> {
      requireAdmin(caller);
      if (inputs.length === 0) throw badInput('devices must list at least one device', 'devices');
      if (inputs.length > MAX_DEVICES_PER_IMPORT) {
        throw badInput(`devices may list at most ${MAX_DEVICES_PER_IMPORT} devices per call (got ${inputs.length})`, 'devices');
      }
      const seen = new Map<string, number>();
      const items: DeviceUpsert[] = inputs.map((d, i) => {
        const name = checkText(d.name, `devices[${i}].name`, { max: DEVICE_NAME_MAX_LENGTH });
        const agentId = d.agentId == null || d.agentId.trim() === '' ? null : checkAgentId(d.agentId, `devices[${i}].agentId`);
        // The inventory may not know a device's version: blank means none.
        const agentVersion = checkAgentVersionText(d.agentVersion?.trim() || null, `devices[${i}].agentVersion`);
        const key = agentId !== null ? `agent:${agentId}` : `name:${name.toLowerCase()}`;
        const twin = seen.get(key);
        if (twin !== undefined) {
          throw badInput(`devices[${i}] repeats devices[${twin}] (${agentId !== null ? 'same agentId' : 'same name, no agentId'})`, `devices[${i}]`);
        }
        seen.set(key, i);
        return { name, agentId, agentVersion, imported: true };
      });
      const now = deps.clock();
      const saved = await transact(deps, async (tx, outbox) => {
        const rows = await upsertDevices(tx, items, now);
        const added = rows.filter((r) => r.inserted).length;
        if (added > 0) {
          await adjustCounters(tx, { NO_AUTHENTICATION_INFO: added });
          outbox.publish({ type: 'summaryChanged' });
        }
        await insertAuditEvent(tx, {
          actor: caller.subject,
          action: 'devices.registered',
          details: { added, updated: rows.length - added },
          at: now,
        });
        const settings = await getCoreSettings(tx);
        return { rows, added, securityEnabled: settings.clientCertificateSecurityEnabled };
      });
      // At most MAX_DEVICES_PER_IMPORT ids: the line stays bounded.
      deps.log.info('devices registered', {
        action: 'devices.registered',
        actor: caller.subject,
        added: saved.added,
        updated: saved.rows.length - saved.added,
        deviceIds: saved.rows.map(({ row }) => String(row.id)),
      });
      // Answer in the order asked.
      const byKey = new Map(
        saved.rows.map(({ row }) => [row.agentId !== null ? `agent:${row.agentId}` : `name:${row.name.toLowerCase()}`, row]),
      );
      return items.map((d) => {
        const row = byKey.get(d.agentId !== null ? `agent:${d.agentId}` : `name:${d.name.toLowerCase()}`)!;
        return deviceView(row, saved.securityEnabled);
      });
    },
  };
}

export type DeviceService = ReturnType<typeof createDeviceService>;
