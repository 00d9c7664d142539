import {
  getRevocationList,
  listRevokedUnexpired,
  lockRevocationList,
  saveRevocationList,
} from '../db/client-certificate-queries.js';
import type { DbExecutor } from '../db/client.js';
import type { CaSigner } from '../pki/index.js';
import type { ServiceDeps } from './deps.js';
import { transact } from './transaction.js';

/** CRL_LIFETIME_MS is how long a CRL is valid; it is reissued when half of that is left, so it never lapses. */
export const CRL_LIFETIME_MS = 7 * 24 * 3600_000;

/** createRevocationService keeps the CRL: reissued with each revocation and well before it expires. */
export function createRevocationService(deps: ServiceDeps & { signer: CaSigner }) {
  /** reissueCrl signs a new CRL naming every revoked, unexpired certificate; call it inside the revoking transaction. */
  async function reissueCrl(tx: DbExecutor, now: Date): Promise<void> {
    const current = await lockRevocationList(tx);
    const revoked = await listRevokedUnexpired(tx, now);
    const crlNumber = (current?.crlNumber ?? 0) + 1;
    const nextUpdate = new Date(now.getTime() + CRL_LIFETIME_MS);
    const crlPem = await deps.signer.createCrl({
      entries: revoked.map((c) => ({
        serialNumber: c.serialNumber!,
        revokedAt: c.revokedAt!,
        reason: c.revocationReason ?? 'UNSPECIFIED',
      })),
      crlNumber,
      thisUpdate: now,
      nextUpdate,
    });
    await saveRevocationList(tx, { crlNumber, crlPem, thisUpdate: now, nextUpdate });
  }

  /** refreshCrlIfDue reissues the CRL when none exists or half its lifetime has passed. */
  async function refreshCrlIfDue(): Promise<boolean> {
      const now = deps.clock();
      const row = await getRevocationList(deps.db);
      if (row && row.nextUpdate.getTime() - now.getTime() > CRL_LIFETIME_MS / 2) return false;
      await transact(deps, async (tx) => {
        const locked = await lockRevocationList(tx);
        // Another replica may have reissued it while this one waited for the lock.
        if (locked && locked.nextUpdate.getTime() - now.getTime() > CRL_LIFETIME_MS / 2) return;
        await reissueCrl(tx, now);
      });
      return true;
  }

  return {
    reissueCrl,
    refreshCrlIfDue,

    /** currentCrlPem is the CRL agents download; the first call issues one if none exists yet. */
    async currentCrlPem(): Promise<string> {
      const row = await getRevocationList(deps.db);
      if (row) return row.crlPem;
      await refreshCrlIfDue();
      return (await getRevocationList(deps.db))!.crlPem;
    },
  };
}

export type RevocationService = ReturnType<typeof createRevocationService>;
