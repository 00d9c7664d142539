/**
 * Bulk seeding for scale tests: fills the app's own tables (devices, connection_results,
 * client_certificates) with a realistic fleet, batch by batch, each batch one transaction that
 * also moves auth_status_counters by exactly what it inserted (as the app's writers do), so a core
 * started on the database afterwards, or already running on it, sees a consistent chart.
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
 * Certificates. The seed cannot sign a million certificates with the core's CA (it may not even
 * exist yet: the core creates it on first start), and it must not: nothing seeded may be trusted.
 * So certificate_pem and csr_pem hold placeholders that parse as a real X.509 certificate / PKCS#10
 * request with this device's CN, serial number, validity and key, but whose signatures verify with
 * nothing: they are templates issued once per run by a throwaway CA ("certfleet-bulk-seed
 * placeholder certfleet CA", key discarded) and then patched per row, which breaks the signature.
 * This is safe because the app never trusts a stored PEM: a connection is judged by the certificate
 * the device presents in TLS (checked against the core CA), certificate_pem is only handed back to
 * agents and the API, and the CSR is only parsed again when public_key_spki is empty. The seed
 * always fills public_key_spki with a real P-256 key (from a small per-seed pool), so approving a
 * seeded PENDING request issues a real certificate from the core CA. Serial numbers are canonical
 * (16 octets, 32 lower-case hex digits, top bit clear) and unique; the CRL names the seeded REVOKED
 * ones that are not expired, as it would real ones (from the next CRL the core issues: the seed
 * does not reissue it); no real certificate carries them.
 *
 * Not seeded: the audit trail of every decision (one fleet.seeded audit event records the run).
 *
 * Determinism: the same seed draws the same statuses, reasons, versions and times relative to
 * opts.now; names, agent ids and serial numbers also depend on the highest device id present when
 * the run starts (so that appended fleets never collide); the PEM placeholders' signature bytes differ.
 */
import { createECDH, createHash, createPrivateKey, createPublicKey, sign as signWith, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { sql } from 'drizzle-orm';
import type { Sql } from 'postgres';
import { CHANNEL } from '../events/postgres-bus.js';
import { createCaSigner, createCertificateAuthority } from '../pki/index.js';
import { encodeCommonNameSubject } from '../pki/certificate-encoding.js';
import { TAG, encodeTime, encodeTlv, encodeUnsignedInteger } from '../pki/der.js';
import { encodePem } from '../pki/pem.js';
import { insertAuditEvent } from './audit-queries.js';
import type { Database, Tx } from './client.js';
import { adjustCounters, emptyCounts, type StatusCounts } from './counter-queries.js';
import { migrate } from './migrate.js';
import { rowsOf } from './rows.js';
import type { RevocationReason } from '../domain/revocation.js';
import {
  AUTH_STATUSES,
  CLIENT_CERTIFICATE_STATUSES,
  type AuthStatus,
  type ClientCertificateStatus,
  type ConnectionSource,
  type FailureReason,
} from '../domain/statuses.js';

/** SeedOptions says what to add; only devices is required. */
export interface SeedOptions {
  /** How many devices to add (1 to 50,000,000). */
  devices: number;
  /** Connection results per device that has connected (1 to 100; default 3). NO_AUTHENTICATION_INFO devices get none. */
  history?: number;
  /** Devices per batch, one transaction with one COPY or INSERT per table (100 to 100,000; default 10,000). */
  batch?: number;
  /** PRNG seed, an integer 0 to 2^32-1 (default 1): the same seed draws the same fleet. */
  seed?: number;
  /**
   * Share of each status in percent. Statuses left out share what is left in proportion to
   * DEFAULT_STATUS_MIX; all four must add up to 100. Default DEFAULT_STATUS_MIX.
   */
  mix?: Partial<Record<AuthStatus, number>>;
  /** Add to a database that already has devices other than the core server (default: refuse). */
  append?: boolean;
  /** The time the fleet is generated around (default: the current time). */
  now?: Date;
  /** Connection results are spread over this many days before now (1 to 90; default 7). */
  historyDays?: number;
  /** Lifetime of seeded certificates in days, like CLIENT_CERT_DAYS (historyDays + 30 to 3650; default 365). */
  certificateDays?: number;
  /** On a PostgreSQL server, stream rows with COPY (default) or, when false, use the INSERT ... unnest statements PGlite uses. */
  copy?: boolean;
  /** Batches written at once on a PostgreSQL server, each on its own connection (1 to 8; default 2). PGlite: always 1. */
  concurrency?: number;
}

/** SeedProgress is reported after each batch is committed. */
export interface SeedProgress {
  devicesInserted: number;
  devicesTotal: number;
  historyRows: number;
  certificates: number;
  elapsedSeconds: number;
  /** Devices per second since the first batch started. */
  devicesPerSecond: number;
}

/** SeedReport says what was added and that the counters were checked against a recount. */
export interface SeedReport {
  devices: number;
  /** Devices added, per status. */
  byStatus: StatusCounts;
  /** AUTHENTICATION_FAILED devices added, per failure reason. */
  byFailureReason: Partial<Record<FailureReason, number>>;
  historyRows: number;
  /** client_certificates rows added, per status. */
  certificates: Record<ClientCertificateStatus, number>;
  /** The ids the new devices got, first to last (not necessarily contiguous). */
  firstDeviceId: number;
  lastDeviceId: number;
  /** Devices in the database before, including the core server's. */
  devicesBefore: number;
  /** The kept counters after the seed, checked equal to a GROUP BY recount made with the counter rows locked. */
  counters: StatusCounts;
  /** Wall-clock seconds of the whole call (migration check, templates and the final recount included). */
  seconds: number;
  /** Where the batch loop's time went: drawing rows in JS, and the rest (waiting for the database). */
  timings: { drawSeconds: number; databaseWaitSeconds: number };
}

/** SeedRefusedError: the database already holds devices and append was not asked for. */
export class SeedRefusedError extends Error {
  override name = 'SeedRefusedError';
}

/** DEFAULT_STATUS_MIX is the fleet's status mix in percent. */
export const DEFAULT_STATUS_MIX: Readonly<Record<AuthStatus, number>> = {
  AUTHENTICATION_SUCCEEDED: 70,
  NO_AUTHENTICATION_INFO: 10,
  AUTHENTICATION_FAILED: 12,
  CLIENT_AGENTS_MUST_UPGRADE: 8,
};

/**
 * FAILURE_REASON_MIX weighs the reasons of failed devices. CERTIFICATE_NOT_YET_VALID is left out:
 * the core's CA never issues a certificate that starts in the future.
 */
export const FAILURE_REASON_MIX: Readonly<Partial<Record<FailureReason, number>>> = {
  NO_CLIENT_CERTIFICATE: 30,
  CERTIFICATE_NOT_APPROVED: 25,
  CERTIFICATE_EXPIRED: 12,
  CERTIFICATE_REVOKED: 10,
  CERTIFICATE_REJECTED: 9,
  UNTRUSTED_ISSUER: 9,
  DEVICE_MISMATCH: 5,
};

/**
 * resolveStatusMix completes a partial mix (percent): the statuses not given share the rest in
 * proportion to their defaults. Throws RangeError when a share is out of 0..100 or the sum is not 100.
 */
export function resolveStatusMix(partial: Partial<Record<AuthStatus, number>> = {}): Record<AuthStatus, number> {
  let given = 0;
  let restDefault = 0;
  for (const status of AUTH_STATUSES) {
    const v = partial[status];
    if (v === undefined) {
      restDefault += DEFAULT_STATUS_MIX[status];
      continue;
    }
    if (!Number.isFinite(v) || v < 0 || v > 100) throw new RangeError(`the share of ${status} must be 0 to 100 (percent), got ${v}`);
    given += v;
  }
  if (given > 100 + 1e-9) throw new RangeError(`the status shares add up to ${given}%, more than 100%`);
  const rest = 100 - given;
  if (restDefault === 0 && Math.abs(rest) > 1e-9) throw new RangeError(`the status shares add up to ${given}%, not 100%`);
  const mix = {} as Record<AuthStatus, number>;
  for (const status of AUTH_STATUSES) {
    mix[status] = partial[status] ?? (rest * DEFAULT_STATUS_MIX[status]) / restDefault;
  }
  return mix;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
// The CA backdates notBefore by this much (src/pki/signer.ts): seeded certificates do the same.
const CLOCK_SKEW_MS = 5 * MINUTE;
const KEY_POOL_SIZE = 8;
// Placeholder agent id in the templates: 36 characters like every seeded agent id, and never hex.
const TEMPLATE_CN = 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz';
const ADMIN = 'seed:secadmin';
const AUTO = 'system:auto-approval';

const MODERN_VERSIONS = ['2019.1.4', '2020.2', '2021.1.6', '2022.1.3', '2022.2.8', '2023.1.1', '2023.2.4', '2024.1', '2024.1.2', '2024.2.1'];
const MODERN_WEIGHTS = [1, 2, 3, 5, 6, 9, 12, 16, 22, 24];
const LEGACY_VERSIONS = ['9.50.1', '9.60', '9.60.2', '9.70.4', '9.80.1'];
const LEGACY_WEIGHTS = [1, 3, 4, 3, 2];
const NAME_PREFIXES = ['DESKTOP-', 'LAPTOP-', 'WS-', 'PC-', 'SRV-', 'KIOSK-'];
const NAME_WEIGHTS = [46, 30, 10, 8, 5, 1];
const REVOCATION_REASONS: RevocationReason[] = ['KEY_COMPROMISE', 'CESSATION_OF_OPERATION', 'UNSPECIFIED'];
const REVOCATION_WEIGHTS = [5, 3, 2];
const REJECTION_NOTES = ['unknown device', 'not a managed asset', 'duplicate request', null];

// ---------------------------------------------------------------------------------------------
// Deterministic randomness and unique identifiers

/** mix32 is MurmurHash3's finalizer: a bijection on 32-bit integers that scatters its input. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Rng is mulberry32, re-seeded per device so that a device's draws do not depend on the batch size. */
class Rng {
  private a = 0;
  reset(seed: number, index: number): void {
    this.a = mix32(mix32(seed ^ 0x5bd1e995) ^ mix32(index + 0x6a09e667)) | 0;
  }
  /** u32 is a uniform 32-bit unsigned integer. */
  u32(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** next is uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[], cumulative: readonly number[]): T {
    const x = this.next() * cumulative[cumulative.length - 1]!;
    let i = 0;
    while (x >= cumulative[i]!) i++;
    return items[i]!;
  }
}

const cumulative = (weights: readonly number[]) => weights.reduce<number[]>((acc, w) => [...acc, (acc.at(-1) ?? 0) + w], []);
const MODERN_CUM = cumulative(MODERN_WEIGHTS);
const LEGACY_CUM = cumulative(LEGACY_WEIGHTS);
const NAME_CUM = cumulative(NAME_WEIGHTS);
const REVOCATION_CUM = cumulative(REVOCATION_WEIGHTS);
const REJECTION_CUM = cumulative(REJECTION_NOTES.map(() => 1));

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
const hex4 = (n: number) => (n & 0xffff).toString(16).padStart(4, '0');

// Names, agent ids and serial numbers are unique because their unique part is a bijection of the
// device's ordinal (the device id space: each run starts above the highest id present), whatever the seed.
const NAME_SPACE = 36n ** 7n;
const NAME_MULTIPLIER = 48_432_034_471n; // coprime with 36^7, so ordinal -> suffix is a bijection

/** hostSuffix is 7 base-36 characters, distinct for every ordinal below 36^7. */
function hostSuffix(ordinal: number): string {
  return ((BigInt(ordinal) * NAME_MULTIPLIER + 0x1d5e3n) % NAME_SPACE).toString(36).toUpperCase().padStart(7, '0');
}

/** uniqueOctets is 6 octets (12 hex digits) that differ for every v below 2^48. */
function uniqueHex48(v: number): string {
  const lo = v >>> 0;
  const hi = Math.floor(v / 4294967296) & 0xffff;
  const a = mix32(lo);
  return hex4(Math.imul(hi, 0x9e37) ^ mix32(a ^ 0x2545f491)) + hex8(a);
}

/** agentIdFor looks like a v4 GUID; its last group is unique per ordinal. */
function agentIdFor(ordinal: number, rng: Rng): string {
  const r1 = rng.u32();
  const r2 = rng.u32();
  return `${hex8(r1)}-${hex4(r2 >>> 16)}-4${hex4(r2).slice(1)}-${hex4(0x8000 | (rng.u32() & 0x3fff))}-${uniqueHex48(ordinal)}`;
}

/** serialFor is a canonical 16-octet serial (top bit clear, first octet non-zero), unique per (ordinal, k < 4). */
function serialFor(ordinal: number, k: number, rng: Rng): string {
  const v = ordinal * 4 + k;
  const lo = v >>> 0;
  const hi = Math.floor(v / 4294967296) >>> 0;
  const a = mix32(lo);
  const b = (mix32(hi) ^ mix32(a ^ 0x2545f491)) >>> 0;
  return hex8((0x40000000 | (rng.u32() & 0x3fffffff)) >>> 0) + hex8(rng.u32()) + hex8(a) + hex8(b);
}

/** foreignSerial is a serial of a certificate this core did not issue (self-signed or another CA's). */
function foreignSerial(rng: Rng): string {
  return hex8(0x10000000 | (rng.u32() & 0x6fffffff)) + hex8(rng.u32()) + hex8(rng.u32()) + hex8(rng.u32());
}

const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

// ---------------------------------------------------------------------------------------------
// Certificate placeholders

interface PoolKey {
  spkiBase64: string;
  fingerprint: string;
  csr: Template;
  certificate: Template;
}

/** Template is a DER structure with the byte offsets of the fields patched per row. */
interface Template {
  der: Buffer;
  cnAt: number;
  serialAt: number;
  notBeforeAt: number;
  notAfterAt: number;
}

function locateOnce(der: Buffer, part: Buffer, what: string): number {
  const at = der.indexOf(part);
  if (at < 0 || der.indexOf(part, at + 1) >= 0) throw new Error(`bulk seed: the template ${what} is not found exactly once`);
  return at;
}

/** poolKey derives a P-256 key from the seed, so the same seed gives the same public keys. */
function poolKey(seed: number, k: number): { privateKey: KeyObject; spki: Buffer } {
  for (let attempt = 0; ; attempt++) {
    const d = createHash('sha256').update(`certfleet bulk seed key ${seed} ${k} ${attempt}`).digest();
    try {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(d);
      const point = ecdh.getPublicKey();
      const privateKey = createPrivateKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          d: d.toString('base64url'),
          x: point.subarray(1, 33).toString('base64url'),
          y: point.subarray(33, 65).toString('base64url'),
        },
        format: 'jwk',
      });
      return { privateKey, spki: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }) };
    } catch (err) {
      // A hash at or above the curve order is not a private key (odds about 2^-32): hash again.
      if (attempt > 3) throw err;
    }
  }
}

/** csrTemplate is a PKCS#10 request for TEMPLATE_CN signed with the pool key (the signature breaks once patched). */
function csrTemplate(privateKey: KeyObject, spki: Buffer): Template {
  const info = encodeTlv(
    TAG.SEQUENCE,
    encodeUnsignedInteger(0n),
    encodeCommonNameSubject(TEMPLATE_CN),
    spki,
    Buffer.from([TAG.CONTEXT_0, 0]),
  );
  const ecdsaWithSha256 = encodeTlv(TAG.SEQUENCE, Buffer.from('06082a8648ce3d040302', 'hex'));
  const signature = signWith('sha256', info, privateKey);
  const der = encodeTlv(TAG.SEQUENCE, info, ecdsaWithSha256, encodeTlv(TAG.BIT_STRING, Buffer.from([0]), signature));
  return { der, cnAt: locateOnce(der, Buffer.from(TEMPLATE_CN, 'latin1'), 'CN'), serialAt: -1, notBeforeAt: -1, notAfterAt: -1 };
}

/** buildKeyPool makes the pool keys and, per key, a certificate template from a throwaway CA and a CSR template. */
async function buildKeyPool(seed: number, now: number, certificateDays: number): Promise<PoolKey[]> {
  const ca = await createCertificateAuthority({ commonName: 'certfleet-bulk-seed placeholder', now: new Date(now) });
  const signer = await createCaSigner({
    certificatePem: ca.certificatePem,
    privateKey: createPrivateKey({ key: ca.privateKeyPkcs8, format: 'der', type: 'pkcs8' }),
  });
  const pool: PoolKey[] = [];
  for (let k = 0; k < KEY_POOL_SIZE; k++) {
    const { privateKey, spki } = poolKey(seed, k);
    const issued = await signer.issueClientCertificate({
      subjectCommonName: TEMPLATE_CN,
      publicKeySpki: spki,
      validityDays: certificateDays,
      now: new Date(now),
    });
    const der = Buffer.from(issued.certificatePem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    pool.push({
      spkiBase64: spki.toString('base64'),
      fingerprint: createHash('sha256').update(spki).digest('hex'),
      csr: csrTemplate(privateKey, spki),
      certificate: {
        der,
        cnAt: locateOnce(der, Buffer.from(TEMPLATE_CN, 'latin1'), 'CN'),
        serialAt: locateOnce(der, Buffer.from(issued.serialNumber, 'hex'), 'serial number'),
        notBeforeAt: locateOnce(der, encodeTime(issued.notBefore), 'notBefore'),
        notAfterAt: locateOnce(der, encodeTime(issued.notAfter), 'notAfter'),
      },
    });
  }
  return pool;
}

function patchedCsrPem(t: Template, agentId: string): string {
  const der = Buffer.from(t.der);
  der.write(agentId, t.cnAt, 'latin1');
  return encodePem(der, 'CERTIFICATE REQUEST');
}

function patchTime(der: Buffer, at: number, ms: number): void {
  const time = encodeTime(new Date(ms));
  // Seeded times are UTCTime (before 2050), as long as the template's.
  if (time.length !== 15) throw new RangeError('bulk seed: certificate times must fall before 2050');
  time.copy(der, at);
}

function patchedCertificatePem(t: Template, agentId: string, serial: string, notBefore: number, notAfter: number): string {
  const der = Buffer.from(t.der);
  der.write(agentId, t.cnAt, 'latin1');
  der.write(serial, t.serialAt, 'hex');
  patchTime(der, t.notBeforeAt, notBefore);
  patchTime(der, t.notAfterAt, notAfter);
  return encodePem(der, 'CERTIFICATE');
}

// ---------------------------------------------------------------------------------------------
// Batches: column arrays, one INSERT ... SELECT FROM unnest(...) per table

class DeviceColumns {
  id: number[] = [];
  name: string[] = [];
  agentId: (string | null)[] = [];
  agentVersion: (string | null)[] = [];
  authStatus: AuthStatus[] = [];
  failureReason: (FailureReason | null)[] = [];
  lastConnectionId: (number | null)[] = [];
  lastAttemptAt: (number | null)[] = [];
  lastSource: (ConnectionSource | null)[] = [];
  lastResult: (AuthStatus | null)[] = [];
  lastFailureReason: (FailureReason | null)[] = [];
  lastAgentVersion: (string | null)[] = [];
  lastCertificateSerial: (string | null)[] = [];
  lastCertificateNotAfter: (number | null)[] = [];
  createdAt: number[] = [];
  updatedAt: number[] = [];
}

class HistoryColumns {
  id: number[] = [];
  deviceId: number[] = [];
  at: number[] = [];
  source: ConnectionSource[] = [];
  result: AuthStatus[] = [];
  failureReason: (FailureReason | null)[] = [];
  agentVersion: (string | null)[] = [];
  serial: (string | null)[] = [];
  notAfter: (number | null)[] = [];
  /** The index of the row's device in the batch, and whether it is that device's newest row. */
  device: number[] = [];
  newest: boolean[] = [];
}

class CertificateColumns {
  deviceId: number[] = [];
  status: ClientCertificateStatus[] = [];
  subject: string[] = [];
  fingerprint: string[] = [];
  spki: string[] = [];
  csrPem: string[] = [];
  requestedAt: number[] = [];
  decidedAt: (number | null)[] = [];
  decidedBy: (string | null)[] = [];
  decisionNote: (string | null)[] = [];
  serial: (string | null)[] = [];
  notBefore: (number | null)[] = [];
  notAfter: (number | null)[] = [];
  certificatePem: (string | null)[] = [];
  revokedAt: (number | null)[] = [];
  revocationReason: (RevocationReason | null)[] = [];
  requestedFrom: string[] = [];
}

interface Batch {
  devices: DeviceColumns;
  history: HistoryColumns;
  certificates: CertificateColumns;
  byStatus: StatusCounts;
  byFailureReason: Partial<Record<FailureReason, number>>;
  certificateCounts: Record<ClientCertificateStatus, number>;
}

interface Plan {
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
    this.certLife = plan.certificateDays * DAY;
    this.windowStart = plan.now - plan.historyDays * DAY;
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
      const decided = Math.floor(rng.between(now - certLife + 5 * DAY, windowStart - DAY));
      const auto = rng.chance(0.4);
      const requested = decided - Math.floor(auto ? rng.between(1000, MINUTE) : rng.between(10 * MINUTE, 2 * DAY));
      createdAt = requested;
      if (rng.chance(0.1)) {
        // Renewed: the previous certificate was revoked as superseded when this one was approved.
        const oldDecided = decided - Math.floor(rng.between(0.5, 0.9) * certLife);
        const oldRequested = oldDecided - Math.floor(rng.between(MINUTE, DAY));
        this.cert('REVOKED', oldRequested, oldDecided, ADMIN, null, wholeSeconds(oldDecided - CLOCK_SKEW_MS), decided, 'SUPERSEDED');
        createdAt = oldRequested;
      }
      if (rng.chance(0.3)) createdAt -= Math.floor(rng.between(DAY, 120 * DAY)); // imported before the agent enrolled
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
        createdAt = Math.floor(rng.between(now - 400 * DAY, now - HOUR));
      } else {
        // An agent that enrolled and has not connected since.
        version = rng.pick(MODERN_VERSIONS, MODERN_CUM);
        createdAt = Math.floor(rng.between(now - 60 * DAY, now - HOUR));
        const u = rng.next();
        if (u < 0.55) this.cert('PENDING', createdAt);
        else if (u < 0.65) {
          const at = Math.min(now, createdAt + Math.floor(rng.between(HOUR, 3 * DAY)));
          this.cert('REJECTED', createdAt, at, ADMIN, rng.pick(REJECTION_NOTES, REJECTION_CUM));
        } else if (u < 0.75) {
          const at = Math.min(now, createdAt + Math.floor(rng.between(MINUTE, DAY)));
          this.cert('APPROVED', createdAt, at, ADMIN, null, wholeSeconds(at - CLOCK_SKEW_MS));
        }
      }
      updatedAt = createdAt;
    } else if (status === 'CLIENT_AGENTS_MUST_UPGRADE') {
      version = rng.pick(LEGACY_VERSIONS, LEGACY_CUM);
      createdAt = Math.floor(rng.between(now - 400 * DAY, windowStart));
      const at = this.connectionTimes(windowStart, now);
      this.record(at, version, status, null, null, null, 0.2);
      updatedAt = at[at.length - 1]!;
    } else {
      version = rng.pick(MODERN_VERSIONS, MODERN_CUM);
      reason = rng.pick(plan.reasons, plan.reasonCum);
      b.byFailureReason[reason] = (b.byFailureReason[reason] ?? 0) + 1;
      createdAt = Math.floor(rng.between(now - 90 * DAY, windowStart - 3 * DAY));
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
          else this.cert('REJECTED', createdAt, createdAt + Math.floor(rng.between(HOUR, 2 * DAY)), ADMIN, rng.pick(REJECTION_NOTES, REJECTION_CUM));
          this.record(at, version, failed, reason, foreignSerial(rng), wholeSeconds(createdAt) + 365 * DAY, 0.05);
          break;
        case 'UNTRUSTED_ISSUER':
        case 'DEVICE_MISMATCH':
          // Another CA's certificate, or one this core issued to another device (a cloned image).
          this.record(at, version, failed, reason, foreignSerial(rng), wholeSeconds(now + rng.between(30, 300) * DAY), 0.05);
          break;
        case 'CERTIFICATE_REVOKED': {
          const decided = Math.floor(rng.between(Math.max(createdAt, now - certLife + 10 * DAY), windowStart - DAY));
          const revocationReason = rng.pick(REVOCATION_REASONS, REVOCATION_CUM);
          const notBefore = wholeSeconds(decided - CLOCK_SKEW_MS);
          if (rng.chance(0.6)) {
            // Revoked, and refused at every connection since.
            const revokedAt = Math.floor(rng.between(decided + HOUR, windowStart));
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
            const notAfter = wholeSeconds(rng.between(windowStart - 60 * DAY, windowStart - HOUR));
            const decided = notAfter - certLife;
            createdAt = decided - Math.floor(rng.between(MINUTE, DAY));
            this.cert('APPROVED', createdAt, decided, ADMIN, null, notAfter - certLife - CLOCK_SKEW_MS);
            this.record(at, version, failed, 'CERTIFICATE_EXPIRED', this.serial, this.notAfter, 0.05);
          } else {
            // Expired after its last (succeeded) connection: the expiry sweep moved the device.
            const notAfter = wholeSeconds(rng.between(updatedAt + 1000, now));
            const decided = notAfter - certLife;
            createdAt = decided - Math.floor(rng.between(MINUTE, DAY));
            this.cert('APPROVED', createdAt, decided, ADMIN, null, notAfter - certLife - CLOCK_SKEW_MS);
            this.record(at, version, 'AUTHENTICATION_SUCCEEDED', null, this.serial, this.notAfter, 0.15);
            updatedAt = Math.min(now, notAfter + Math.floor(rng.between(1000, 10 * MINUTE)));
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
async function generateBatch(plan: Plan, first: number, deviceIds: number[], ordinals: number[], historyIds: number[]): Promise<Batch> {
  const builder = new BatchBuilder(plan);
  for (let j = 0; j < deviceIds.length; j++) {
    // Let the event loop run now and then: other batches are being written to their sockets.
    if (j % 1024 === 1023) await new Promise<void>((resolve) => setImmediate(resolve));
    builder.device(first + j, deviceIds[j]!, ordinals[j]!);
  }
  return builder.finish(historyIds);
}

/** historyRowsOf is how many connection results the devices with run indexes [first, first + n) get. */
function historyRowsOf(plan: Plan, first: number, n: number): number {
  const rng = new Rng();
  let seen = 0;
  for (let j = 0; j < n; j++) {
    rng.reset(plan.seed, first + j);
    if (rng.pick(AUTH_STATUSES, plan.statusCum) !== 'NO_AUTHENTICATION_INFO') seen++;
  }
  return seen * plan.history;
}

// Timestamps travel as epoch milliseconds (float8) and numbers and text as arrays: one parameter per column.
const arr = (values: unknown[]) => sql.param(values);
const tsOf = (column: string) => sql.raw(`to_timestamp(${column} / 1000.0)`);

/** insertBatch sends the three INSERTs at once: they run in order on the transaction's connection, pipelined. */
async function insertBatch(tx: Tx, b: Batch): Promise<void> {
  const d = b.devices;
  const statements: Promise<unknown>[] = [];
  statements.push(tx.execute(sql`
    insert into devices (id, name, agent_id, agent_version, is_core_server, auth_status, failure_reason,
      last_connection_id, last_attempt_at, last_source, last_result, last_failure_reason, last_agent_version,
      last_certificate_serial, last_certificate_not_after, created_at, updated_at)
    overriding system value
    select id, name, agent_id, agent_version, false, auth_status, failure_reason,
      last_connection_id, ${tsOf('last_attempt_at')}, last_source, last_result, last_failure_reason, last_agent_version,
      last_certificate_serial, ${tsOf('last_certificate_not_after')}, ${tsOf('created_at')}, ${tsOf('updated_at')}
    from unnest(${arr(d.id)}::bigint[], ${arr(d.name)}::text[], ${arr(d.agentId)}::text[], ${arr(d.agentVersion)}::text[],
      ${arr(d.authStatus)}::text[], ${arr(d.failureReason)}::text[], ${arr(d.lastConnectionId)}::bigint[],
      ${arr(d.lastAttemptAt)}::float8[], ${arr(d.lastSource)}::text[], ${arr(d.lastResult)}::text[],
      ${arr(d.lastFailureReason)}::text[], ${arr(d.lastAgentVersion)}::text[], ${arr(d.lastCertificateSerial)}::text[],
      ${arr(d.lastCertificateNotAfter)}::float8[], ${arr(d.createdAt)}::float8[], ${arr(d.updatedAt)}::float8[])
      as t(id, name, agent_id, agent_version, auth_status, failure_reason, last_connection_id, last_attempt_at,
        last_source, last_result, last_failure_reason, last_agent_version, last_certificate_serial,
        last_certificate_not_after, created_at, updated_at)`));
  const h = b.history;
  if (h.id.length > 0) {
    statements.push(tx.execute(sql`
      insert into connection_results (id, device_id, at, source, result, failure_reason, agent_version,
        certificate_serial_number, certificate_not_after)
      overriding system value
      select id, device_id, ${tsOf('at')}, source, result, failure_reason, agent_version, serial, ${tsOf('not_after')}
      from unnest(${arr(h.id)}::bigint[], ${arr(h.deviceId)}::bigint[], ${arr(h.at)}::float8[], ${arr(h.source)}::text[],
        ${arr(h.result)}::text[], ${arr(h.failureReason)}::text[], ${arr(h.agentVersion)}::text[], ${arr(h.serial)}::text[],
        ${arr(h.notAfter)}::float8[])
        as t(id, device_id, at, source, result, failure_reason, agent_version, serial, not_after)`));
  }
  const c = b.certificates;
  if (c.deviceId.length > 0) {
    statements.push(tx.execute(sql`
      insert into client_certificates (device_id, status, subject, key_algorithm, public_key_fingerprint, public_key_spki,
        csr_pem, requested_at, decided_at, decided_by, decision_note, serial_number, not_before, not_after,
        certificate_pem, revoked_at, revocation_reason, requested_from)
      select device_id, status, subject, 'EC-P256', fingerprint, spki, csr_pem, ${tsOf('requested_at')},
        ${tsOf('decided_at')}, decided_by, decision_note, serial, ${tsOf('not_before')}, ${tsOf('not_after')},
        certificate_pem, ${tsOf('revoked_at')}, revocation_reason, requested_from
      from unnest(${arr(c.deviceId)}::bigint[], ${arr(c.status)}::text[], ${arr(c.subject)}::text[],
        ${arr(c.fingerprint)}::text[], ${arr(c.spki)}::text[], ${arr(c.csrPem)}::text[], ${arr(c.requestedAt)}::float8[],
        ${arr(c.decidedAt)}::float8[], ${arr(c.decidedBy)}::text[], ${arr(c.decisionNote)}::text[], ${arr(c.serial)}::text[],
        ${arr(c.notBefore)}::float8[], ${arr(c.notAfter)}::float8[], ${arr(c.certificatePem)}::text[],
        ${arr(c.revokedAt)}::float8[], ${arr(c.revocationReason)}::text[], ${arr(c.requestedFrom)}::text[])
        as t(device_id, status, subject, fingerprint, spki, csr_pem, requested_at, decided_at, decided_by, decision_note,
          serial, not_before, not_after, certificate_pem, revoked_at, revocation_reason, requested_from)`));
  }
  await Promise.all(statements);
}

// ---------------------------------------------------------------------------------------------
// COPY, on a PostgreSQL server: the same rows as the INSERTs above, streamed in COPY's text format.
// (Measured about as fast as the INSERTs; it spares building and parsing multi-megabyte array
// literals, and the rows stream while the next batch is drawn.)

type CopyColumn = [name: string, kind: 'text' | 'number' | 'time', values: readonly unknown[] | string];

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** copyEscape writes text in COPY's text format: backslash escapes for its four special characters. */
function copyEscape(text: string): string {
  if (!COPY_SPECIAL.test(text)) return text;
  // PEM blocks only have newlines: the common case needs no callback per character.
  if (text.indexOf('\\') < 0 && text.indexOf('\t') < 0 && text.indexOf('\r') < 0) return text.replaceAll('\n', '\\n');
  return text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!);
}

/** renderColumn is one column in COPY's text format (\N for null), a whole column at a time. */
function renderColumn(values: readonly unknown[], kind: CopyColumn[1], rows: number): string[] {
  const out = new Array<string>(rows);
  if (kind === 'time') {
    const date = new Date(0);
    for (let i = 0; i < rows; i++) {
      const v = values[i] as number | null;
      out[i] = v === null ? '\\N' : (date.setTime(v), date.toISOString());
    }
  } else if (kind === 'number') {
    for (let i = 0; i < rows; i++) {
      const v = values[i] as number | null;
      out[i] = v === null ? '\\N' : String(v);
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const v = values[i] as string | null;
      out[i] = v === null ? '\\N' : copyEscape(v);
    }
  }
  return out;
}

/**
 * CopyFailure keeps the error of a COPY. postgres.js resolves a COPY query with its stream as soon as
 * the server is ready for data, so an error the server reports later reaches only the query's own
 * reject (a no-op by then); the hook below keeps it, to be thrown instead of the "transaction is
 * aborted" error of the next statement.
 */
interface CopyFailure {
  error?: unknown;
}

/** copyInto streams rows into a table and resolves once the server has taken all of them (or rejects with its error). */
async function copyInto(client: Sql, failure: CopyFailure, table: string, columns: CopyColumn[], rows: number): Promise<void> {
  if (rows === 0) return;
  // Table and column names are this file's constants; the values travel as COPY data, never as SQL.
  const query = client.unsafe(`copy ${table} (${columns.map((c) => c[0]).join(', ')}) from stdin`);
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, rejectFailed) => (fail = rejectFailed));
  failed.catch(() => {});
  const hooked = query as unknown as { reject(error: unknown): void };
  const reject = hooked.reject;
  hooked.reject = (error: unknown) => {
    failure.error ??= error;
    fail(error);
    reject(error);
  };
  const stream = await query.writable();
  const rendered = columns.map(([, kind, values]) => (typeof values === 'string' ? copyEscape(values) : renderColumn(values, kind, rows)));
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    let line = '';
    for (let c = 0; c < rendered.length; c++) {
      const r = rendered[c]!;
      line += (c === 0 ? '' : '\t') + (typeof r === 'string' ? r : r[i]);
    }
    chunk += line + '\n';
    if (chunk.length >= 256 * 1024) {
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
    }
  }
  // 'finish' comes with the server's CommandComplete; until then the connection must carry nothing else.
  const finished = once(stream, 'finish');
  stream.end(chunk);
  await Promise.race([finished, failed]);
}

/** copyBatch writes a batch with three COPYs, one after the other. */
async function copyBatch(client: Sql, b: Batch): Promise<void> {
  const failure: CopyFailure = {};
  try {
    const d = b.devices;
    await copyInto(client, failure, 'devices', [
      ['id', 'number', d.id],
      ['name', 'text', d.name],
      ['agent_id', 'text', d.agentId],
      ['agent_version', 'text', d.agentVersion],
      ['auth_status', 'text', d.authStatus],
      ['failure_reason', 'text', d.failureReason],
      ['last_connection_id', 'number', d.lastConnectionId],
      ['last_attempt_at', 'time', d.lastAttemptAt],
      ['last_source', 'text', d.lastSource],
      ['last_result', 'text', d.lastResult],
      ['last_failure_reason', 'text', d.lastFailureReason],
      ['last_agent_version', 'text', d.lastAgentVersion],
      ['last_certificate_serial', 'text', d.lastCertificateSerial],
      ['last_certificate_not_after', 'time', d.lastCertificateNotAfter],
      ['created_at', 'time', d.createdAt],
      ['updated_at', 'time', d.updatedAt],
    ], d.id.length);
    const h = b.history;
    await copyInto(client, failure, 'connection_results', [
      ['id', 'number', h.id],
      ['device_id', 'number', h.deviceId],
      ['at', 'time', h.at],
      ['source', 'text', h.source],
      ['result', 'text', h.result],
      ['failure_reason', 'text', h.failureReason],
      ['agent_version', 'text', h.agentVersion],
      ['certificate_serial_number', 'text', h.serial],
      ['certificate_not_after', 'time', h.notAfter],
    ], h.id.length);
    const c = b.certificates;
    await copyInto(client, failure, 'client_certificates', [
      ['device_id', 'number', c.deviceId],
      ['status', 'text', c.status],
      ['subject', 'text', c.subject],
      ['key_algorithm', 'text', 'EC-P256'],
      ['public_key_fingerprint', 'text', c.fingerprint],
      ['public_key_spki', 'text', c.spki],
      ['csr_pem', 'text', c.csrPem],
      ['requested_at', 'time', c.requestedAt],
      ['decided_at', 'time', c.decidedAt],
      ['decided_by', 'text', c.decidedBy],
      ['decision_note', 'text', c.decisionNote],
      ['serial_number', 'text', c.serial],
      ['not_before', 'time', c.notBefore],
      ['not_after', 'time', c.notAfter],
      ['certificate_pem', 'text', c.certificatePem],
      ['revoked_at', 'time', c.revokedAt],
      ['revocation_reason', 'text', c.revocationReason],
      ['requested_from', 'text', c.requestedFrom],
    ], c.deviceId.length);
  } catch (err) {
    throw failure.error ?? err;
  }
  if (failure.error) throw failure.error;
}

/** copyClientOf is the postgres.js connection behind a drizzle transaction on a PostgreSQL server, if it has one. */
function copyClientOf(database: Database, tx: Tx): Sql | undefined {
  if (database.kind !== 'postgres') return undefined;
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client;
  return typeof (client as { unsafe?: unknown } | undefined)?.unsafe === 'function' ? (client as Sql) : undefined;
}

/** reserveIds takes n values from a table's identity sequence (other writers may take ids in between). */
/** reserveIds takes n values from a table's identity sequence (sequences are not transactional: other writers may take ids in between). */
async function reserveIds(db: Database['db'], table: 'devices' | 'connection_results', n: number): Promise<number[]> {
  if (n === 0) return [];
  const rows = rowsOf<{ id: string | number }>(
    await db.execute(sql`select nextval(pg_get_serial_sequence(${table}, 'id')) as id from generate_series(1, ${n}::int)`),
  );
  return rows.map((r) => Number(r.id));
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/**
 * databaseReason is the database's own words for a failure: drizzle wraps them in "Failed query: ..."
 * with the parameters, which here are arrays of megabytes.
 */
function databaseReason(err: unknown): string {
  let e = err as { message?: unknown; cause?: unknown; detail?: unknown } | undefined;
  while (e && e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  const message = String(e?.message ?? err).split('\n')[0]!.slice(0, 500);
  return typeof e?.detail === 'string' && e.detail ? `${message} (${e.detail.slice(0, 300)})` : message;
}

const addCounts = <K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>) => {
  for (const [k, n] of Object.entries(from) as [K, number][]) into[k] = (into[k] ?? 0) + n;
};

/**
 * seedFleet adds opts.devices devices, their connection history and client certificates to the
 * database, the way the app would have written them, and keeps the chart counters exact.
 *
 * - It migrates the database first, as startCore does, and leaves the core's bootstrap (the core
 *   server device, the CA, the CRL) to the core: seeded devices coexist with a core started before
 *   or after, on the same database.
 * - It refuses (SeedRefusedError) when devices other than the core server exist, unless opts.append.
 * - Each batch of opts.batch devices is one transaction that also moves the counters by what it
 *   added, so the counters are right at every commit, as with the app's own writers; on a
 *   PostgreSQL server opts.concurrency batches are written at once (COPY), while the next ones are
 *   drawn. If a batch fails, the batches committed before it stay (a consistent, smaller fleet).
 * - At the end, with the counter rows locked, the counters are compared with a GROUP BY recount;
 *   a difference throws.
 * onProgress is called after every committed batch. Works on both drivers; use PostgreSQL for large fleets.
 */
export async function seedFleet(
  database: Database,
  opts: SeedOptions,
  onProgress?: (p: SeedProgress) => void,
): Promise<SeedReport> {
  const started = performance.now();
  const total = checkInt('devices', opts.devices, 1, 50_000_000);
  const history = checkInt('history', opts.history ?? 3, 1, 100);
  const batchSize = checkInt('batch', opts.batch ?? 10_000, 100, 100_000);
  const seed = checkInt('seed', opts.seed ?? 1, 0, 0xffffffff);
  const historyDays = checkInt('historyDays', opts.historyDays ?? 7, 1, 90);
  const certificateDays = checkInt('certificateDays', opts.certificateDays ?? 365, historyDays + 30, 3650);
  // PGlite is one connection: one batch at a time.
  const concurrency = database.kind === 'postgres' ? checkInt('concurrency', opts.concurrency ?? 2, 1, 8) : 1;
  const now = opts.now?.getTime() ?? Date.now();
  if (!Number.isFinite(now)) throw new RangeError('now must be a valid Date');
  const mix = resolveStatusMix(opts.mix);
  const reasons = Object.keys(FAILURE_REASON_MIX) as FailureReason[];
  const db = database.db;

  await migrate(db);
  const [state] = rowsOf<{ devices: string | number; others: string | number; max_id: string | number }>(
    await db.execute(
      sql`select count(*) as devices, count(*) filter (where not is_core_server) as others, coalesce(max(id), 0) as max_id from devices`,
    ),
  );
  const devicesBefore = Number(state!.devices);
  const others = Number(state!.others);
  if (others > 0 && !opts.append) {
    throw new SeedRefusedError(
      `the database already has ${others} device(s) besides the core server: add to them with append (--append), ` +
        'or seed an empty database (create one and point DATABASE_URL at it)',
    );
  }
  // Ordinals (the unique part of names, agent ids and serials) start above every id present: ids
  // handed out later are higher still, so the next run's ordinals start above this run's.
  const ordinalBase = Number(state!.max_id);
  const plan: Plan = {
    seed,
    now,
    history,
    historyDays,
    certificateDays,
    statusCum: cumulative(AUTH_STATUSES.map((s) => mix[s])),
    reasons,
    reasonCum: cumulative(reasons.map((r) => FAILURE_REASON_MIX[r]!)),
    pool: await buildKeyPool(seed, now, certificateDays),
  };

  const loopStarted = performance.now();
  const byStatus = emptyCounts();
  const byFailureReason: Partial<Record<FailureReason, number>> = {};
  const certificates = Object.fromEntries(CLIENT_CERTIFICATE_STATUSES.map((s) => [s, 0])) as Record<ClientCertificateStatus, number>;
  let historyRows = 0;
  let inserted = 0;
  let firstDeviceId = Number.POSITIVE_INFINITY;
  let lastDeviceId = 0;
  let drawMs = 0;

  // Batches are drawn one at a time (JS is one thread), each while earlier ones are being written.
  const batchCount = Math.ceil(total / batchSize);
  let nextBatch = 0;
  let failure: unknown;
  let drawing: Promise<unknown> = Promise.resolve();
  const take = () => (failure === undefined && nextBatch < batchCount ? nextBatch++ : undefined);
  const drawBatch = (k: number): Promise<Batch> => {
    const drawn = drawing.then(async () => {
      const first = k * batchSize;
      const n = Math.min(batchSize, total - first);
      const [deviceIds, historyIds] = await Promise.all([
        reserveIds(db, 'devices', n),
        reserveIds(db, 'connection_results', historyRowsOf(plan, first, n)),
      ]);
      const t0 = performance.now();
      const ordinals = deviceIds.map((_, j) => ordinalBase + first + j + 1);
      const b = await generateBatch(plan, first, deviceIds, ordinals, historyIds);
      drawMs += performance.now() - t0;
      return b;
    });
    drawing = drawn.catch(() => {});
    // Awaited by its worker; a failure meanwhile must not count as unhandled.
    drawn.catch(() => {});
    return drawn;
  };

  const writeBatch = (b: Batch) =>
    db.transaction(async (tx) => {
      // Losing the last batches in a server crash is harmless here; waiting for each flush is not needed.
      await tx.execute(sql`set local synchronous_commit = off`);
      const copyClient = opts.copy === false ? undefined : copyClientOf(database, tx);
      if (copyClient) await copyBatch(copyClient, b);
      else await insertBatch(tx, b);
      // The counters move in the same transaction as the devices they count, like every writer of the app.
      await adjustCounters(tx, b.byStatus);
    });

  const worker = async () => {
    const k = take();
    let ready = k === undefined ? undefined : drawBatch(k);
    while (ready) {
      let batch: Batch;
      try {
        batch = await ready;
        const k2 = take();
        ready = k2 === undefined ? undefined : drawBatch(k2);
        await writeBatch(batch);
      } catch (err) {
        failure ??= err;
        return;
      }
      inserted += batch.devices.id.length;
      historyRows += batch.history.id.length;
      addCounts(byStatus, batch.byStatus);
      addCounts(byFailureReason, batch.byFailureReason);
      addCounts(certificates, batch.certificateCounts);
      for (const id of batch.devices.id) {
        if (id < firstDeviceId) firstDeviceId = id;
        if (id > lastDeviceId) lastDeviceId = id;
      }
      if (onProgress) {
        const elapsedSeconds = (performance.now() - loopStarted) / 1000;
        onProgress({
          devicesInserted: inserted,
          devicesTotal: total,
          historyRows,
          certificates: CLIENT_CERTIFICATE_STATUSES.reduce((n, s) => n + certificates[s], 0),
          elapsedSeconds,
          devicesPerSecond: elapsedSeconds > 0 ? inserted / elapsedSeconds : 0,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== undefined) {
    throw new Error(
      `bulk seed stopped after committing ${inserted} of ${total} devices (the chart counters include exactly those; ` +
        `add the rest with append, or start again on an empty database): ${databaseReason(failure)}`,
      { cause: failure },
    );
  }

  // The check: with all four counter rows locked (in adjustCounters' order), no status move can
  // commit between reading the counters and the recount, whatever else runs on the database.
  const counters = await db.transaction(async (tx) => {
    await tx.execute(sql`select status from auth_status_counters order by status collate "C" for update`);
    const kept = emptyCounts();
    const recount = emptyCounts();
    for (const r of rowsOf<{ status: AuthStatus; count: string | number }>(await tx.execute(sql`select status, count from auth_status_counters`))) {
      kept[r.status] = Number(r.count);
    }
    for (const r of rowsOf<{ status: AuthStatus; n: string | number }>(
      await tx.execute(sql`select auth_status as status, count(*) as n from devices group by auth_status`),
    )) {
      recount[r.status] = Number(r.n);
    }
    const wrong = AUTH_STATUSES.filter((s) => kept[s] !== recount[s]);
    if (wrong.length > 0) {
      throw new Error(
        `bulk seed: the kept counters disagree with a recount of the devices (${wrong.map((s) => `${s} kept ${kept[s]}, counted ${recount[s]}`).join('; ')})`,
      );
    }
    await insertAuditEvent(tx, {
      actor: 'system:bulk-seed',
      action: 'fleet.seeded',
      details: { devices: total, byStatus, historyRows, certificates, seed, firstDeviceId, lastDeviceId },
      at: new Date(now),
    });
    return kept;
  });

  // Fresh statistics for the planner: a million new rows would otherwise be planned with the
  // statistics of an empty table until autovacuum gets round to them.
  await database.db.execute(sql`analyze devices, connection_results, client_certificates`);

  // Running replicas refresh their dashboards, as after any committed change (no-op on PGlite).
  await database.notifications?.notify(CHANNEL, JSON.stringify({ type: 'summaryChanged' })).catch(() => {});
  const seconds = (performance.now() - started) / 1000;
  const loopSeconds = (performance.now() - loopStarted) / 1000;
  return {
    devices: total,
    byStatus,
    byFailureReason,
    historyRows,
    certificates,
    firstDeviceId,
    lastDeviceId,
    devicesBefore,
    counters,
    seconds,
    timings: { drawSeconds: drawMs / 1000, databaseWaitSeconds: Math.max(0, loopSeconds - drawMs / 1000) },
  };
}
