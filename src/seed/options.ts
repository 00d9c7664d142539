// What a bulk seed run takes and reports, and the status and failure-reason mixes it draws from.
import type { StatusCounts } from '../db/counter-queries.js';
import { AUTH_STATUSES, type AuthStatus, type ClientCertificateStatus, type FailureReason } from '../domain/statuses.js';

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
