/**
 * Drawing the seeded fleet, device by device, into column batches.
 *
 * What a seeded fleet looks like, per device status (the rules are DESIGN.md's):
 * - AUTHENTICATION_SUCCEEDED: a 2016-or-later agent, an APPROVED certificate valid now (issued 8 to
 *   360 days ago, so it expires between 5 and 357 days from now), K connection results all
 *   SUCCEEDED with that certificate; some devices also have an older certificate REVOKED as
 *   SUPERSEDED, or a PENDING renewal request.
 * - NO_AUTHENTICATION_INFO: no connection result at all. Some are agentless (imported), the others
 *   enrolled agents that never connected, with a PENDING, REJECTED or APPROVED request or none.
 * - AUTHENTICATION_FAILED: K results, with a failure reason drawn from FAILURE_REASON_MIX and the
 *   certificate rows that reason implies (PENDING for CERTIFICATE_NOT_APPROVED, REJECTED, REVOKED,
 *   APPROVED-but-expired, none for NO_CLIENT_CERTIFICATE...). A revoked or expired device was either
 *   moved by the revocation or the expiry sweep after its last (succeeded) connection, as the app
 *   does, or has connected since and was refused.
 * - CLIENT_AGENTS_MUST_UPGRADE: a 9.x agent, no certificate, K results CLIENT_AGENTS_MUST_UPGRADE.
 * Every device's last_* columns are its newest connection result (the one with the highest id).
 *
 * A little over 400 lines: the batch builder is one class whose methods share the row being drawn;
 * cutting it would pass that state between files for no gain in reading.
 */
import { emptyCounts } from '../db/counter-queries.js';
import type { RevocationReason } from '../domain/revocation.js';
import {
  AUTH_STATUSES,
  CLIENT_CERTIFICATE_STATUSES,
  type AuthStatus,
  type ClientCertificateStatus,
  type ConnectionSource,
  type FailureReason,
} from '../domain/statuses.js';
import { CLOCK_SKEW_MS, DAY_MS, HOUR_MS, MINUTE_MS } from '../domain/time.js';
import { CertificateColumns, DeviceColumns, HistoryColumns, type Batch } from './columns.js';
import { Rng, agentIdFor, cumulative, foreignSerial, hostSuffix, serialFor } from './ids.js';
import { KEY_POOL_SIZE, patchedCertificatePem, patchedCsrPem, type PoolKey } from './placeholders.js';

const ADMIN = 'seed:secadmin';
const AUTO = 'system:auto-approval';

const MODERN_VERSIONS = ['2019.1.4', '2020.2', '2021.1.6', '2022.1.3', '2022.2.8', '2023.1.1', '2023.2.4', '2024.1', '2024.1.2', '2024.2.1'];
const MODERN_WEIGHTS = [1, 2, 3, 5, 6, 9, 12, 16, 22, 24];
const LEGACY_VERSIONS = ['9.50.1', '9.60', '9.60.2', '9.70.4', '9.80.1'];
const LEGACY_WEIGHTS = [1, 3, 4, 3, 2];
const NAME_PREFIXES = ['DESKTOP-', 'LAPTOP-', 'WS-', 'PC-', 'SRV-', 'KIOSK-'];
const NAME_WEIGHTS = [46, 30, 10, 8, 5, 1];
// The reasons an admin gives when revoking by hand, drawn for seeded revoked devices (a subset of domain/revocation.ts).
const SEEDED_REVOCATION_REASONS: RevocationReason[] = ['KEY_COMPROMISE', 'CESSATION_OF_OPERATION', 'UNSPECIFIED'];
const REVOCATION_WEIGHTS = [5, 3, 2];
const REJECTION_NOTES = ['unknown device', 'not a managed asset', 'duplicate request', null];

const MODERN_CUM = cumulative(MODERN_WEIGHTS);
const LEGACY_CUM = cumulative(LEGACY_WEIGHTS);
const NAME_CUM = cumulative(NAME_WEIGHTS);
const REVOCATION_CUM = cumulative(REVOCATION_WEIGHTS);
const REJECTION_CUM = cumulative(REJECTION_NOTES.map(() => 1));

const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/** Plan is what every batch of a run is drawn from. */
export interface Plan {
  seed: number;
  now: number;
  history: number;
  historyDays: number;
  certificateDays: number;
  statusCum: number[];
  reasons: FailureReason[];
  reasonCum: number[];
  pool: PoolKey[];
}

/**
 * BatchBuilder draws devices and their rows into a Batch. The state of the device being drawn sits in
 * fields rather than in closures: this runs a million times, and allocation is what it costs.
 */
class BatchBuilder {
  readonly batch: Batch;
  private readonly rng = new Rng();
  private readonly times: number[] = [];
  private readonly certLife: number;
  private readonly windowStart: number;
  // The device being drawn.
  private index = 0;
  private id = 0;
  private ordinal = 0;
  private agentId = '';
  private keyBase = 0;
  private address = '';
  private certIndex = 0;
  // The certificate cert() issued last.
  private serial = '';
  private notAfter = 0;

  constructor(private readonly plan: Plan) {
    this.batch = {
      devices: new DeviceColumns(),
      history: new HistoryColumns(),
      certificates: new CertificateColumns(),
      byStatus: emptyCounts(),
      byFailureReason: {},
      certificateCounts: Object.fromEntries(CLIENT_CERTIFICATE_STATUSES.map((s) => [s, 0])) as Record<ClientCertificateStatus, number>,
    };
    this.certLife = plan.certificateDays * DAY_MS;
    this.windowStart = plan.now - plan.historyDays * DAY_MS;
  }

  /**
   * cert adds a client_certificates row for the device; when issuedNotBefore is given, the row
   * carries an issued certificate, whose serial and notAfter are left in this.serial and this.notAfter.
   */
  private cert(
    status: ClientCertificateStatus,
    requestedAt: number,
    decidedAt: number | null = null,
    decidedBy: string | null = null,
    note: string | null = null,
    issuedNotBefore: number | null = null,
    revokedAt: number | null = null,
    revocationReason: RevocationReason | null = null,
  ): void {
    const c = this.batch.certificates;
    const key = this.plan.pool[(this.keyBase + this.certIndex) % KEY_POOL_SIZE]!;
    const k = this.certIndex++;
    c.deviceId.push(this.id);
    c.status.push(status);
    c.subject.push(`CN=${this.agentId}`);
    c.fingerprint.push(key.fingerprint);
    c.spki.push(key.spkiBase64);
    c.csrPem.push(patchedCsrPem(key.csr, this.agentId));
    c.requestedAt.push(requestedAt);
    c.decidedAt.push(decidedAt);
    c.decidedBy.push(decidedBy);
    c.decisionNote.push(note);
    c.revokedAt.push(revokedAt);
    c.revocationReason.push(revocationReason);
    c.requestedFrom.push(this.address);
    this.batch.certificateCounts[status]++;
    if (issuedNotBefore === null) {
      c.serial.push(null);
      c.notBefore.push(null);
      c.notAfter.push(null);
      c.certificatePem.push(null);
      return;
    }
    this.serial = serialFor(this.ordinal, k, this.rng);
    this.notAfter = issuedNotBefore + CLOCK_SKEW_MS + this.certLife;
    c.serial.push(this.serial);
    c.notBefore.push(issuedNotBefore);
    c.notAfter.push(this.notAfter);
    c.certificatePem.push(patchedCertificatePem(key.certificate, this.agentId, this.serial, issuedNotBefore, this.notAfter));
  }

  /** connectionTimes draws the times of K results inside [from, to], oldest first and distinct, into this.times. */
  private connectionTimes(from: number, to: number): number[] {
    const t = this.times;
    t.length = 0;
    for (let k = 0; k < this.plan.history; k++) t.push(Math.floor(this.rng.between(from, to)));
    t.sort((x, y) => x - y);
    for (let k = 1; k < t.length; k++) if (t[k]! <= t[k - 1]!) t[k] = t[k - 1]! + 1;
    return t;
  }

  /** record appends the device's connection results (one outcome for all) and fills its last_* columns. */
  private record(
    at: number[],
    version: string,
    result: AuthStatus,
    reason: FailureReason | null,
    serial: string | null,
    notAfter: number | null,
    scannerShare: number,
  ): void {
    const h = this.batch.history;
    const d = this.batch.devices;
    let source: ConnectionSource = 'SECURE_CONNECTION';
    for (let k = 0; k < at.length; k++) {
      source = this.rng.chance(scannerShare) ? 'SECURITY_SCANNER' : 'SECURE_CONNECTION';
      h.deviceId.push(this.id);
      h.at.push(at[k]!);
      h.source.push(source);
      h.result.push(result);
      h.failureReason.push(reason);
      h.agentVersion.push(version);
      h.serial.push(serial);
      h.notAfter.push(notAfter);
      h.device.push(this.index);
      h.newest.push(k === at.length - 1);
    }
    d.lastAttemptAt.push(at[at.length - 1]!);
    d.lastSource.push(source);
    d.lastResult.push(result);
    d.lastFailureReason.push(reason);
    d.lastAgentVersion.push(version);
    d.lastCertificateSerial.push(serial);
    d.lastCertificateNotAfter.push(notAfter);
    d.lastConnectionId.push(null); // set once the batch's history ids are known
  }

  private noHistory(): void {
    const d = this.batch.devices;
    d.lastAttemptAt.push(null);
    d.lastSource.push(null);
    d.lastResult.push(null);
    d.lastFailureReason.push(null);
    d.lastAgentVersion.push(null);
    d.lastCertificateSerial.push(null);
    d.lastCertificateNotAfter.push(null);
    d.lastConnectionId.push(null);
  }

  /** device draws the device with run index runIndex, which gets the given id and ordinal. */
  device(runIndex: number, id: number, ordinal: number): void {
    const { plan, rng, certLife, windowStart } = this;
    const now = plan.now;
    const b = this.batch;
    rng.reset(plan.seed, runIndex);
    // The status is the first draw: historyRowsOf relies on it.
    const status = rng.pick(AUTH_STATUSES, plan.statusCum);
    const name = rng.pick(NAME_PREFIXES, NAME_CUM) + hostSuffix(ordinal);
    this.id = id;
    this.ordinal = ordinal;
    this.agentId = agentIdFor(ordinal, rng);
    this.keyBase = rng.u32() % KEY_POOL_SIZE;
    this.address = `10.${rng.u32() & 0xff}.${rng.u32() & 0xff}.${1 + (rng.u32() % 254)}`;
    this.certIndex = 0;

    let createdAt: number;
    let updatedAt: number;
    let hasAgent = true;
    let version: string | null;
    let reason: FailureReason | null = null;

    if (status === 'AUTHENTICATION_SUCCEEDED') {
      version = rng.pick(MODERN_VERSIONS, MODERN_CUM);
      const decided = Math.floor(rng.between(now - certLife + 5 * DAY_MS, windowStart - DAY_MS));
      const auto = rng.chance(0.4);
      const requested = decided - Math.floor(auto ? rng.between(1000, MINUTE_MS) : rng.between(10 * MINUTE_MS, 2 * DAY_MS));
      createdAt = requested;
      if (rng.chance(0.1)) {
        // Renewed: the previous certificate was revoked as superseded when this one was approved.
        const oldDecided = decided - Math.floor(rng.between(0.5, 0.9) * certLife);
        const oldRequested = oldDecided - Math.floor(rng.between(MINUTE_MS, DAY_MS));
        this.cert('REVOKED', oldRequested, oldDecided, ADMIN, null, wholeSeconds(oldDecided - CLOCK_SKEW_MS), decided, 'SUPERSEDED');
        createdAt = oldRequested;
      }
      if (rng.chance(0.3)) createdAt -= Math.floor(rng.between(DAY_MS, 120 * DAY_MS)); // imported before the agent enrolled
      this.cert('APPROVED', requested, decided, auto ? AUTO : ADMIN, null, wholeSeconds(decided - CLOCK_SKEW_MS));
      const serial = this.serial;
      const notAfter = this.notAfter;
      if (rng.chance(0.03)) this.cert('PENDING', Math.floor(rng.between(windowStart, now))); // a renewal waiting for approval
      const at = this.connectionTimes(windowStart, now);
      this.record(at, version, status, null, serial, notAfter, 0.15);
      updatedAt = at[at.length - 1]!;
    } else if (status === 'NO_AUTHENTICATION_INFO') {
      this.noHistory();
      if (rng.chance(0.45)) {
        // Imported by registerDevices, no agent.
        hasAgent = false;
        version = null;
        createdAt = Math.floor(rng.between(now - 400 * DAY_MS, now - HOUR_MS));
      } else {
        // An agent that enrolled and has not connected since.
        version = rng.pick(MODERN_VERSIONS, MODERN_CUM);
        createdAt = Math.floor(rng.between(now - 60 * DAY_MS, now - HOUR_MS));
        const u = rng.next();
        if (u < 0.55) this.cert('PENDING', createdAt);
        else if (u < 0.65) {
          const at = Math.min(now, createdAt + Math.floor(rng.between(HOUR_MS, 3 * DAY_MS)));
          this.cert('REJECTED', createdAt, at, ADMIN, rng.pick(REJECTION_NOTES, REJECTION_CUM));
        } else if (u < 0.75) {
          const at = Math.min(now, createdAt + Math.floor(rng.between(MINUTE_MS, DAY_MS)));
          this.cert('APPROVED', createdAt, at, ADMIN, null, wholeSeconds(at - CLOCK_SKEW_MS));
        }
      }
      updatedAt = createdAt;
    } else if (status === 'CLIENT_AGENTS_MUST_UPGRADE') {
      version = rng.pick(LEGACY_VERSIONS, LEGACY_CUM);
      createdAt = Math.floor(rng.between(now - 400 * DAY_MS, windowStart));
      const at = this.connectionTimes(windowStart, now);
      this.record(at, version, status, null, null, null, 0.2);
      updatedAt = at[at.length - 1]!;
    } else {
      version = rng.pick(MODERN_VERSIONS, MODERN_CUM);
      reason = rng.pick(plan.reasons, plan.reasonCum);
      b.byFailureReason[reason] = (b.byFailureReason[reason] ?? 0) + 1;
      createdAt = Math.floor(rng.between(now - 90 * DAY_MS, windowStart - 3 * DAY_MS));
      const at = this.connectionTimes(windowStart, now);
      updatedAt = at[at.length - 1]!;
      const failed = 'AUTHENTICATION_FAILED';
      switch (reason) {
        case 'NO_CLIENT_CERTIFICATE':
          this.record(at, version, failed, reason, null, null, 0.1);
          break;
        case 'CERTIFICATE_NOT_APPROVED':
        case 'CERTIFICATE_REJECTED':
          // Waiting for approval, or refused: the agent presents a self-signed certificate of its key.
          if (reason === 'CERTIFICATE_NOT_APPROVED') this.cert('PENDING', createdAt);
          else this.cert('REJECTED', createdAt, createdAt + Math.floor(rng.between(HOUR_MS, 2 * DAY_MS)), ADMIN, rng.pick(REJECTION_NOTES, REJECTION_CUM));
          this.record(at, version, failed, reason, foreignSerial(rng), wholeSeconds(createdAt) + 365 * DAY_MS, 0.05);
          break;
        case 'UNTRUSTED_ISSUER':
        case 'DEVICE_MISMATCH':
          // Another CA's certificate, or one this core issued to another device (a cloned image).
          this.record(at, version, failed, reason, foreignSerial(rng), wholeSeconds(now + rng.between(30, 300) * DAY_MS), 0.05);
          break;
        case 'CERTIFICATE_REVOKED': {
          const decided = Math.floor(rng.between(Math.max(createdAt, now - certLife + 10 * DAY_MS), windowStart - DAY_MS));
          const revocationReason = rng.pick(SEEDED_REVOCATION_REASONS, REVOCATION_CUM);
          const notBefore = wholeSeconds(decided - CLOCK_SKEW_MS);
          if (rng.chance(0.6)) {
            // Revoked, and refused at every connection since.
            const revokedAt = Math.floor(rng.between(decided + HOUR_MS, windowStart));
            this.cert('REVOKED', createdAt, decided, ADMIN, null, notBefore, revokedAt, revocationReason);
            this.record(at, version, failed, reason, this.serial, this.notAfter, 0.05);
          } else {
            // Revoked after its last (succeeded) connection: the revocation moved the device (DESIGN.md).
            const revokedAt = Math.floor(rng.between(updatedAt + 1, now));
            this.cert('REVOKED', createdAt, decided, ADMIN, null, notBefore, revokedAt, revocationReason);
            this.record(at, version, 'AUTHENTICATION_SUCCEEDED', null, this.serial, this.notAfter, 0.15);
            updatedAt = revokedAt;
          }
          break;
        }
        case 'CERTIFICATE_EXPIRED':
        default: {
          if (rng.chance(0.5) || now - updatedAt < 2000) {
            // Expired before the window; refused at every connection since.
            const notAfter = wholeSeconds(rng.between(windowStart - 60 * DAY_MS, windowStart - HOUR_MS));
            const decided = notAfter - certLife;
            createdAt = decided - Math.floor(rng.between(MINUTE_MS, DAY_MS));
            this.cert('APPROVED', createdAt, decided, ADMIN, null, notAfter - certLife - CLOCK_SKEW_MS);
            this.record(at, version, failed, 'CERTIFICATE_EXPIRED', this.serial, this.notAfter, 0.05);
          } else {
            // Expired after its last (succeeded) connection: the expiry sweep moved the device.
            const notAfter = wholeSeconds(rng.between(updatedAt + 1000, now));
            const decided = notAfter - certLife;
            createdAt = decided - Math.floor(rng.between(MINUTE_MS, DAY_MS));
            this.cert('APPROVED', createdAt, decided, ADMIN, null, notAfter - certLife - CLOCK_SKEW_MS);
            this.record(at, version, 'AUTHENTICATION_SUCCEEDED', null, this.serial, this.notAfter, 0.15);
            updatedAt = Math.min(now, notAfter + Math.floor(rng.between(1000, 10 * MINUTE_MS)));
          }
          break;
        }
      }
    }

    const d = b.devices;
    d.id.push(id);
    d.name.push(name);
    d.agentId.push(hasAgent ? this.agentId : null);
    d.agentVersion.push(version);
    d.authStatus.push(status);
    d.failureReason.push(reason);
    d.createdAt.push(createdAt);
    d.updatedAt.push(updatedAt);
    b.byStatus[status]++;
    this.index++;
  }

  /**
   * finish hands out the history ids in time order inside the batch (as they would have been handed
   * out), so a device's newest result has its highest id, which is what the app reads as "newest";
   * the rows go out in id order too, so the table's physical order follows time.
   */
  finish(historyIds: number[]): Batch {
    const b = this.batch;
    const h = b.history;
    const d = b.devices;
    const rows = h.at.length;
    if (historyIds.length < rows) throw new Error(`bulk seed: ${rows} history ids needed, ${historyIds.length} reserved`);
    const order = Array.from({ length: rows }, (_, i) => i).sort((x, y) => h.at[x]! - h.at[y]! || x - y);
    const ids = historyIds.slice(0, rows).sort((x, y) => x - y);
    const sorted = new HistoryColumns();
    for (let k = 0; k < rows; k++) {
      const row = order[k]!;
      sorted.id.push(ids[k]!);
      sorted.deviceId.push(h.deviceId[row]!);
      sorted.at.push(h.at[row]!);
      sorted.source.push(h.source[row]!);
      sorted.result.push(h.result[row]!);
      sorted.failureReason.push(h.failureReason[row]!);
      sorted.agentVersion.push(h.agentVersion[row]!);
      sorted.serial.push(h.serial[row]!);
      sorted.notAfter.push(h.notAfter[row]!);
      if (h.newest[row]) d.lastConnectionId[h.device[row]!] = ids[k]!;
    }
    b.history = sorted;
    return b;
  }
}

/**
 * generateBatch draws the devices with run indexes [first, first + deviceIds.length) and their rows.
 * historyIds must hold one id per connection result the batch needs (historyRowsOf).
 */
export async function generateBatch(plan: Plan, first: number, deviceIds: number[], ordinals: number[], historyIds: number[]): Promise<Batch> {
  const builder = new BatchBuilder(plan);
  for (let j = 0; j < deviceIds.length; j++) {
    // Let the event loop run now and then: other batches are being written to their sockets.
    if (j % 1024 === 1023) await new Promise<void>((resolve) => setImmediate(resolve));
    builder.device(first + j, deviceIds[j]!, ordinals[j]!);
  }
  return builder.finish(historyIds);
}

/** historyRowsOf is how many connection results the devices with run indexes [first, first + n) get. */
export function historyRowsOf(plan: Plan, first: number, n: number): number {
  const rng = new Rng();
  let seen = 0;
  for (let j = 0; j < n; j++) {
    rng.reset(plan.seed, first + j);
    if (rng.pick(AUTH_STATUSES, plan.statusCum) !== 'NO_AUTHENTICATION_INFO') seen++;
  }
  return seen * plan.history;
}
