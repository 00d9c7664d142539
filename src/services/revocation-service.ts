import { performance } from 'node:perf_hooks';
import {
  deleteCrlPending,
  getRevocationListHead,
  getRevocationListPem,
  insertCrlPending,
  listCrlPending,
  listRevokedByIds,
  listRevokedUnexpired,
  lockCrlReissue,
  saveRevocationList,
} from '../db/client-certificate-queries.js';
import type { DbExecutor } from '../db/client.js';
import { encodeCrlEntry, type CaSigner } from '../pki/index.js';
import type { ServiceDeps } from './deps.js';
import { transact, type Outbox } from './transaction.js';

/** CRL_LIFETIME_MS is how long a CRL is valid; it is reissued when half of that is left, so it never lapses. */
export const CRL_LIFETIME_MS = 7 * 24 * 3600_000;

/** DEFAULT_CRL_WINDOW_MS is how long after a revocation commits the CRL served may still not name it (CRL_WINDOW_MS). */
export const DEFAULT_CRL_WINDOW_MS = 1000;

type CrlBody = { crlNumber: number; entries: Map<string, { der: Buffer; notAfter: number }> };

/** What one attempt to reissue did: signed a CRL, found nothing to do, or found another replica signing. */
export type ReissueOutcome = 'signed' | 'clean' | 'busy';

/**
 * createRevocationService keeps the CRL, a distribution artifact: the revoking transaction flips
 * the certificate's status (what the gateway checks on every request) and leaves a mark
 * (insertCrlPending); the CRL is then reissued once for all revocations of a short window, off the
 * revoking request's path, so that a revocation's cost does not grow with the CRL.
 *
 * The promise: the CRL served names a revocation at most windowMs after it commits. This replica
 * signs about windowMs/2 after the first revocation it made or saw, so that the signature itself and
 * a late timer fit in the window; every replica looks for marks every windowMs/4, so one that dies
 * after revoking leaves the signing to the others. One replica signs a given reissue (an advisory
 * lock); it deletes the marks it saw when it stores the CRL, in the same transaction. A reader that
 * finds a mark older than the window signs on demand (or waits for the replica signing).
 */
export function createRevocationService(deps: ServiceDeps & { signer: CaSigner; crlWindowMs?: number }) {
  const windowMs = deps.crlWindowMs ?? DEFAULT_CRL_WINDOW_MS;
  // The last signature's duration, so that the next one starts early enough to end inside the window.
  let signMs = 0;
  let signed = 0;
  let cache: { crlNumber: number; crlPem: string } | null = null;
  // The entries of the last CRL this replica stored, encoded, by serial (see nextEntries).
  let body: CrlBody | null = null;
  let onDemand: Promise<ReissueOutcome> | undefined;

  /**
   * reissue signs a new CRL naming every revoked, unexpired certificate when a revocation is pending
   * (or none exists yet, or whenDue and half its lifetime has passed). wait: wait for a replica that
   * is signing, then decide; else leave it to that one ('busy').
   */
  async function reissue(opts: { wait: boolean; whenDue?: boolean }): Promise<ReissueOutcome> {
    const started = performance.now();
    const outcome = await transact(deps, async (tx): Promise<{ outcome: ReissueOutcome; body?: CrlBody }> => {
      if (!(await lockCrlReissue(tx, opts.wait))) return { outcome: 'busy' };
      // The time first, then the marks: each mark was committed with its revocation, so what is read
      // after them names it, and the CRL names every revocation committed before its thisUpdate.
      const now = deps.clock();
      const marks = await listCrlPending(tx);
      const { crl } = await getRevocationListHead(tx);
      const due = !crl || (opts.whenDue === true && crl.nextUpdate.getTime() - now.getTime() <= CRL_LIFETIME_MS / 2);
      if (marks.length === 0 && !due) return { outcome: 'clean' };
      const crlNumber = (crl?.crlNumber ?? 0) + 1;
      const entries = await nextEntries(tx, crl?.crlNumber ?? null, marks, due, now);
      const nextUpdate = new Date(now.getTime() + CRL_LIFETIME_MS);
      const crlPem = await deps.signer.createCrl({
        entries: { encoded: Array.from(entries.values(), (e) => e.der) },
        crlNumber,
        thisUpdate: now,
        nextUpdate,
      });
      await saveRevocationList(tx, { crlNumber, crlPem, thisUpdate: now, nextUpdate });
      await deleteCrlPending(tx, marks.map((m) => m.id));
      return { outcome: 'signed', body: { crlNumber, entries } };
    });
    if (outcome.body) {
      body = outcome.body;
      signMs = performance.now() - started;
      signed++;
    }
    return outcome.outcome;
  }

  /**
   * nextEntries is the next CRL's entries. When this replica stored the current CRL and every mark
   * names what it revoked, that is the last CRL's entries (kept encoded) plus the marks'
   * certificates, less those expired since: the cost of a reissue then grows with the revocations of
   * its window, not with the CRL, beyond copying and signing its bytes. Otherwise (another replica
   * signed last, a mark without ids, the half-life refresh), every revoked certificate is read again.
   */
  async function nextEntries(
    tx: DbExecutor,
    currentNumber: number | null,
    marks: { certificateIds: number[] | null }[],
    due: boolean,
    now: Date,
  ): Promise<Map<string, { der: Buffer; notAfter: number }>> {
    const kept = body;
    // Whatever happens next, the kept entries stop matching a stored CRL until this transaction commits.
    body = null;
    const incremental = kept !== null && kept.crlNumber === currentNumber && !due && marks.every((m) => m.certificateIds !== null);
    const entries = incremental ? kept.entries : new Map<string, { der: Buffer; notAfter: number }>();
    const rows = incremental
      ? await listRevokedByIds(tx, [...new Set(marks.flatMap((m) => m.certificateIds!))], now)
      : await listRevokedUnexpired(tx, now);
    for (const r of rows) {
      const { serialNumber, der } = encodeCrlEntry({ serialNumber: r.serialNumber!, revokedAt: r.revokedAt!, reason: r.revocationReason ?? 'UNSPECIFIED' });
      entries.set(serialNumber, { der, notAfter: r.notAfter!.getTime() });
    }
    if (incremental) {
      const t = now.getTime();
      for (const [serial, e] of entries) if (e.notAfter <= t) entries.delete(serial);
    }
    return entries;
  }

  // The scheduler of this replica: one timer, one reissue at a time.
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let running: Promise<void> | undefined;
  let again = false;
  let retry: NodeJS.Timeout | undefined;
  let lastStart = -Infinity;

  /**
   * poke schedules a reissue for a revocation committed ageMs ago: about half a window after it, less
   * the last signature's duration, but no sooner than a quarter window after it. A replica that only found the mark (seen) and did not store the
   * last CRL waits a quarter window more, so the one holding the entries usually signs.
   */
  function poke(ageMs: number, seen = false): void {
    if (!started) return;
    if (running) {
      again = true;
      return;
    }
    const target = Math.max(windowMs / 4, windowMs / 2 - signMs) + (seen && body === null ? windowMs / 4 : 0);
    // While revocations keep coming, reissues start at least half a window apart: at most two a
    // window, each within about half a window plus a signature of the revocations it names.
    const delay = Math.max(0, target - ageMs, lastStart + windowMs / 2 - performance.now());
    const at = Date.now() + delay;
    if (timer && timerAt <= at) return;
    clearTimeout(timer);
    timerAt = at;
    // Unreferenced: a process that exits leaves its marks, and the next look (any replica's, or this one's next start) signs.
    timer = setTimeout(fire, delay).unref();
  }

  function fire(): void {
    timer = undefined;
    timerAt = Infinity;
    lastStart = performance.now();
    running = (async () => {
      let retryMs: number | undefined;
      try {
        const outcome = await reissue({ wait: false });
        // Another replica is signing: look again shortly, in case it dies before it stores the CRL.
        if (outcome === 'busy') retryMs = Math.max(10, windowMs / 10);
      } catch (err) {
        deps.log.error('CRL reissue failed; the next look tries again', { error: err });
        retryMs = Math.max(10, windowMs / 4);
      } finally {
        running = undefined;
      }
      const lookAgain = again;
      again = false;
      if (retryMs !== undefined) {
        if (started) retry = setTimeout(() => void look(), retryMs).unref();
      } else if (lookAgain) await look();
    })();
  }

  let looking: Promise<void> | undefined;
  /** look schedules a reissue if a revocation is pending, whichever replica made it (one look at a time). */
  function look(): Promise<void> {
    looking ??= lookOnce().finally(() => (looking = undefined));
    return looking;
  }
  async function lookOnce(): Promise<void> {
    if (!started) return;
    try {
      const { pendingAgeMs } = await getRevocationListHead(deps.db);
      if (pendingAgeMs !== null) poke(pendingAgeMs, true);
    } catch (err) {
      deps.log.warn('could not look for pending revocations', { error: err });
    }
  }

  /** refreshCrlIfDue reissues the CRL when none exists, half its lifetime has passed, or a revocation waits longer than the window. */
  async function refreshCrlIfDue(): Promise<boolean> {
    const now = deps.clock();
    const { crl, pendingAgeMs } = await getRevocationListHead(deps.db);
    const due = !crl || crl.nextUpdate.getTime() - now.getTime() <= CRL_LIFETIME_MS / 2;
    if (!due && (pendingAgeMs === null || pendingAgeMs < windowMs)) return false;
    return (await reissue({ wait: true, whenDue: true })) === 'signed';
  }

  return {
    refreshCrlIfDue,
    /** windowMs is the CRL window in milliseconds (see createRevocationService). */
    windowMs,

    /** markRevoked records, inside the revoking transaction, that the CRL must name what it revoked; the reissue is scheduled once it commits. */
    async markRevoked(tx: DbExecutor, outbox: Outbox, certificateIds: readonly number[]): Promise<void> {
      await insertCrlPending(tx, certificateIds);
      outbox.afterCommit(() => poke(0));
    },

    /** currentCrlPem is the CRL agents download: never missing a revocation committed longer than the window ago. */
    async currentCrlPem(): Promise<string> {
      let head = await getRevocationListHead(deps.db);
      if (!head.crl || (head.pendingAgeMs !== null && head.pendingAgeMs >= windowMs)) {
        // None yet, or the replica that should have signed is late or gone: sign now (one reader
        // of this replica at a time), or wait for the replica signing.
        onDemand ??= reissue({ wait: true }).finally(() => (onDemand = undefined));
        await onDemand;
        head = await getRevocationListHead(deps.db);
      }
      if (cache?.crlNumber !== head.crl?.crlNumber) cache = await getRevocationListPem(deps.db);
      return cache!.crlPem;
    },

    /** reissuesSigned counts the CRLs this replica signed since it started (tests, benchmarks). */
    reissuesSigned: () => signed,

    /** start runs the scheduler until the returned stop: a look for pending revocations every windowMs/4. */
    start(): () => Promise<void> {
      started = true;
      const interval = setInterval(() => void look(), Math.max(10, windowMs / 4));
      interval.unref();
      void look();
      return async () => {
        started = false;
        clearInterval(interval);
        clearTimeout(timer);
        clearTimeout(retry);
        timer = undefined;
        timerAt = Infinity;
        // What is under way finishes before the database closes: a reissue, a look.
        await running;
        await looking;
      };
    },
  };
}

export type RevocationService = ReturnType<typeof createRevocationService>;
