import { eq, sql } from 'drizzle-orm';
import { CLIENT_CERTIFICATE_STATUSES, type ClientCertificateStatus } from '../domain/statuses.js';
import type { DbExecutor } from './client.js';
import { rowsOf } from './rows.js';
import { revocationList } from './schema.js';

// Figures about the certificates that cost the same at any fleet size (the operators' metrics read
// them at every scrape): the kept ledger of statuses, an index range, one row.

export type CertificateStatusCounts = Record<ClientCertificateStatus, number>;

/** readCertificateStatusCounts sums the ledger the triggers of drizzle/0008 keep: the rows since its last fold, a few per status. */
export async function readCertificateStatusCounts(db: DbExecutor): Promise<CertificateStatusCounts> {
  const rows = rowsOf<{ status: ClientCertificateStatus; n: string | number }>(
    await db.execute(sql`select status, sum(delta)::text as n from client_certificate_status_ledger group by status`),
  );
  const counts = Object.fromEntries(CLIENT_CERTIFICATE_STATUSES.map((s) => [s, 0])) as CertificateStatusCounts;
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

/**
 * foldCertificateStatusLedger replaces the ledger's rows by one per status, in one statement: rows
 * appended meanwhile are not in its snapshot and stay, and a fold running at the same time on another
 * replica skips the rows this one deleted, so the sums never change. Returns the rows folded.
 */
export async function foldCertificateStatusLedger(db: DbExecutor): Promise<number> {
  const rows = rowsOf<{ folded: number }>(
    await db.execute(sql`
      with gone as (delete from client_certificate_status_ledger returning status, delta),
      kept as (
        insert into client_certificate_status_ledger (status, delta)
        select status, sum(delta) from gone group by status having sum(delta) <> 0
        returning 1
      )
      select (select count(*) from gone)::int as folded`),
  );
  return rows[0]?.folded ?? 0;
}

/**
 * countApprovedExpiringUpTo counts the approved certificates whose validity ends in (from, until],
 * reading at most `cap` entries of client_certificates_approved_not_after_idx.
 */
export async function countApprovedExpiringUpTo(db: DbExecutor, from: Date, until: Date, cap: number): Promise<number> {
  const rows = rowsOf<{ n: number }>(
    await db.execute(sql`
      select count(*)::int as n from (
        select 1 from client_certificates
        where status = 'APPROVED' and not_after > ${from.toISOString()}::timestamptz and not_after <= ${until.toISOString()}::timestamptz
        limit ${cap}
      ) e`),
  );
  return rows[0]?.n ?? 0;
}

/** getCrlNextUpdate is when the current CRL stops being valid; null before the first one is issued. */
export async function getCrlNextUpdate(db: DbExecutor): Promise<Date | null> {
  const [row] = await db.select({ nextUpdate: revocationList.nextUpdate }).from(revocationList).where(eq(revocationList.id, 1));
  return row?.nextUpdate ?? null;
}
