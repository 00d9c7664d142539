import { adjustCounters, type StatusCounts } from '../db/counter-queries.js';
import {
  getDeviceByAgentId,
  insertConnectionResult,
  lockDeviceById,
  updateDevice,
  upsertDevices,
} from '../db/device-queries.js';
import { getCoreSettings } from '../db/settings-queries.js';
import type { AuthStatus, ConnectionSource } from '../db/schema.js';
import { CONNECTION_SOURCES } from '../db/schema.js';
import { badInput } from './app-error.js';
import { decideConnectionResult, parseAgentVersion, type CertificateFacts, type ConnectionVerdict } from './auth-status-rules.js';
import type { ServiceDeps } from './deps.js';
import { checkAgentId, checkText } from './input-checks.js';
import { transact } from './transaction.js';
import { deviceView, type DeviceView } from './views.js';

export interface ConnectionResultInput {
  source: ConnectionSource;
  /** The agent id the device claims (for a connection, the one its request named). */
  agentId: string;
  /** Used only when the device is not known yet. */
  deviceName?: string | null;
  agentVersion: string | null;
  /** What the gateway found out about the presented certificate; null when none was presented. */
  certificate: CertificateFacts | null;
}

export interface RecordedConnection {
  device: DeviceView;
  verdict: ConnectionVerdict;
  previousStatus: DeviceView['authStatus'];
}

/** createConnectionService records connection results: the only way a device's status moves. */
export function createConnectionService(deps: ServiceDeps) {
  return {
    /**
     * recordConnectionResult decides the result of one attempt, appends it to the device's history
     * and moves the device's status and the chart counters in the same transaction.
     */
    async recordConnectionResult(input: ConnectionResultInput): Promise<RecordedConnection> {
      if (!CONNECTION_SOURCES.includes(input.source)) throw badInput(`unknown source ${input.source}`, 'source');
      const agentId = checkAgentId(input.agentId);
      const agentVersion = input.agentVersion === null ? null : input.agentVersion.trim();
      if (agentVersion !== null) parseAgentVersion(agentVersion);
      const deviceName = input.deviceName ? checkText(input.deviceName, 'deviceName', { max: 255 }) : agentId;
      const now = deps.clock();
      const verdict = decideConnectionResult({ agentVersion, agentId, certificate: input.certificate }, now);

      return transact(deps, async (tx, outbox) => {
        // All counter changes of the transaction go in one adjustCounters call at its end: counter
        // rows are then always locked last and in one order, so concurrent reports cannot deadlock.
        const deltas: Partial<StatusCounts> = {};
        const add = (status: AuthStatus, n: number) => (deltas[status] = (deltas[status] ?? 0) + n);
        let device = await getDeviceByAgentId(tx, agentId);
        if (!device) {
          // An agent the core has never seen still shows up in the chart, so the admin sees its failure.
          const [created] = await upsertDevices(tx, [{ name: deviceName, agentId, agentVersion }], now);
          device = created!.row;
          if (created!.inserted) add('NO_AUTHENTICATION_INFO', 1);
        }
        const locked = (await lockDeviceById(tx, device.id))!;
        const attempt = await insertConnectionResult(tx, {
          deviceId: locked.id,
          at: now,
          source: input.source,
          result: verdict.result,
          failureReason: verdict.failureReason,
          agentVersion,
          certificateSerialNumber: input.certificate?.serialNumber ?? null,
          certificateNotAfter: input.certificate?.notAfter ?? null,
        });
        const updated = await updateDevice(tx, locked.id, {
          authStatus: verdict.result,
          failureReason: verdict.failureReason,
          agentVersion: agentVersion ?? locked.agentVersion,
          lastConnectionId: attempt.id,
          lastAttemptAt: now,
          lastSource: input.source,
          lastResult: verdict.result,
          lastFailureReason: verdict.failureReason,
          lastAgentVersion: agentVersion,
          lastCertificateSerial: attempt.certificateSerialNumber,
          lastCertificateNotAfter: attempt.certificateNotAfter,
          updatedAt: now,
        });
        if (locked.authStatus !== verdict.result) {
          add(locked.authStatus, -1);
          add(verdict.result, 1);
        }
        await adjustCounters(tx, deltas);
        if (locked.authStatus !== verdict.result) {
          outbox.publish({ type: 'summaryChanged' });
          outbox.publish({
            type: 'deviceAuthStatusChanged',
            deviceId: locked.id,
            previous: locked.authStatus,
            current: verdict.result,
            at: now.toISOString(),
          });
        }
        const settings = await getCoreSettings(tx);
        return {
          device: deviceView(updated, settings.clientCertificateSecurityEnabled),
          verdict,
          previousStatus: locked.authStatus,
        };
      });
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;
