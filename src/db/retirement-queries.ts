import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { clientCertificates, devices } from './schema.js';

// The writes that retire a device's certificate from under it: the expiry sweep and revocation
// (including supersession) move authenticated devices to AUTHENTICATION_FAILED
// (services/certificate-retirement.ts decides when, and moves the counters with them).

/**
 * expireSucceededDevices turns authenticated devices whose certificate ran out to FAILED
 * (CERTIFICATE_EXPIRED), at most limit of them; rows another transaction holds are left for the next run.
 */
export async function expireSucceededDevices(
  tx: DbExecutor,
  now: Date,
  limit: number,
): Promise<{ id: number }[]> {
  const due = tx
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.authStatus, 'AUTHENTICATION_SUCCEEDED'), lt(devices.lastCertificateNotAfter, now)))
    .limit(limit)
    .for('update', { skipLocked: true });
  return tx
    .update(devices)
    .set({ authStatus: 'AUTHENTICATION_FAILED', failureReason: 'CERTIFICATE_EXPIRED', updatedAt: now })
    .where(inArray(devices.id, due))
    .returning({ id: devices.id });
}

/**
 * failDevicesLastSeenWith turns the authenticated devices whose newest result was made with one of
 * these certificates to FAILED (CERTIFICATE_REVOKED), locking them in id order (the order every
 * writer uses). A device authenticates only with a certificate issued for it (the subject is bound
 * to its device), so each is found through its certificate's device_id, the primary key, instead
 * of a scan of every authenticated device for the serial.
 */
export async function failDevicesLastSeenWith(
  tx: DbExecutor,
  certificateIds: readonly number[],
  now: Date,
): Promise<{ id: number }[]> {
  if (certificateIds.length === 0) return [];
  const due = tx
    .select({ id: devices.id })
    .from(devices)
    .innerJoin(
      clientCertificates,
      and(eq(clientCertificates.deviceId, devices.id), eq(clientCertificates.serialNumber, devices.lastCertificateSerial)),
    )
    .where(and(inArray(clientCertificates.id, [...certificateIds]), eq(devices.authStatus, 'AUTHENTICATION_SUCCEEDED')))
    .orderBy(asc(devices.id))
    .for('update', { of: devices });
  return tx
    .update(devices)
    .set({ authStatus: 'AUTHENTICATION_FAILED', failureReason: 'CERTIFICATE_REVOKED', updatedAt: now })
    .where(and(inArray(devices.id, due), eq(devices.authStatus, 'AUTHENTICATION_SUCCEEDED')))
    .returning({ id: devices.id });
}
