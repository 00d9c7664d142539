import { readCertificateStatusCounts } from '../db/certificate-figures-queries.js';
import { countCertificates, getCertificatesByIds, listCertificates, type RequestListFilter } from '../db/client-certificate-queries.js';
import { CLIENT_CERTIFICATE_STATUSES, type ClientCertificateStatus } from '../domain/statuses.js';
import type { CaSigner } from '../pki/index.js';
import { badInput } from './app-error.js';
import type { AuthorityInfo } from './authority-service.js';
import { requireViewer, type Caller } from './caller.js';
import { createDecisions } from './client-access-decisions.js';
import { createEnrollment, type EnrollmentLimits } from './client-access-enrollment.js';
import type { ServiceDeps } from './deps.js';
import { checkEnumList, checkSearch } from './input-checks.js';
import { checkPage, pageOf, readPage, type Page, type PageArgs } from './pagination.js';
import type { RevocationService } from './revocation-service.js';
import { clientCertificateView, type ClientCertificateView } from './views.js';

export { MAX_BULK_APPROVALS, type BulkApproveResult, type BulkRejectResult, type BulkRevokeResult } from './client-access-decisions.js';
export type { EnrollInput, EnrollmentLimits } from './client-access-enrollment.js';

/**
 * createClientAccessService is Configure > Manage client access: the agents' requests
 * (client-access-enrollment.ts), the admins' decisions (client-access-decisions.ts), and the list
 * both are read from. Issuing and retiring certificates live in certificate-issuance.ts and
 * certificate-retirement.ts, shared by both sides and by the expiry sweep.
 */
export function createClientAccessService(
  deps: ServiceDeps & {
    authority: AuthorityInfo;
    signer: CaSigner;
    revocation: RevocationService;
    clientCertDays: number;
    autoApproveNetworks: string[];
    enrollmentLimits: EnrollmentLimits;
  },
) {
  const { db } = deps;

  // The kept ledger of statuses (drizzle/0008) gives a count by status at a cost that does not grow
  // with the requests (a count of the Approved tab's rows cost 350-430 ms of the database at 721,819
  // approved certificates, BENCHMARKS.md, "Client access at a million devices"); a search needs a
  // count of its rows.
  async function countRequests(filter: RequestListFilter): Promise<number> {
    if (filter.search) return countCertificates(db, filter);
    const counts = await readCertificateStatusCounts(db);
    const statuses: readonly ClientCertificateStatus[] = filter.statuses ?? CLIENT_CERTIFICATE_STATUSES;
    return statuses.reduce((n, s) => n + counts[s], 0);
  }

  return {
    ...createEnrollment(deps),
    ...createDecisions(deps),

    /** loadRequests reads several requests for subscribers (one query for a whole batch of events). */
    async loadRequests(ids: number[]): Promise<Map<number, ClientCertificateView>> {
      return new Map((await getCertificatesByIds(db, ids)).map((r) => [r.id, clientCertificateView(r)]));
    },

    /**
     * listRequests pages the requests and certificates for Manage client access. `status` (the
     * original argument) and filter.statuses are two spellings of the same restriction: giving both
     * is refused rather than guessing which one was meant.
     */
    async listRequests(
      caller: Caller,
      args: { status?: ClientCertificateStatus | null; filter?: RequestFilterInput | null } & PageArgs,
    ): Promise<Page<ClientCertificateView> & { totalCount: number }> {
      requireViewer(caller);
      const page = checkPage('request', args);
      const filter = checkRequestFilter(args.status, args.filter);
      const [{ rows, behind }, totalCount] = await Promise.all([
        readPage(page, 'asc', (k) => listCertificates(db, { ...filter, ...k })),
        countRequests(filter),
      ]);
      return { ...pageOf(rows, page, behind, 'request', (r) => r.id, clientCertificateView), totalCount };
    },
  };
}

/** RequestFilterInput is ClientAccessRequestFilter as the transport hands it over. */
export interface RequestFilterInput {
  statuses?: ClientCertificateStatus[] | null;
  search?: string | null;
}

/** checkRequestFilter checks listRequests' status and filter arguments together, before any query. */
function checkRequestFilter(
  status: ClientCertificateStatus | null | undefined,
  filter: RequestFilterInput | null | undefined,
): RequestListFilter {
  const search = checkSearch(filter?.search, 'filter.search');
  if (status !== undefined && status !== null) {
    if (filter?.statuses !== undefined && filter.statuses !== null) {
      throw badInput('give status or filter.statuses, not both (status is the older spelling of a one-status filter.statuses)', 'status');
    }
    if (!CLIENT_CERTIFICATE_STATUSES.includes(status)) throw badInput(`unknown status ${status}`, 'status');
    return { statuses: [status], search };
  }
  return { statuses: checkEnumList(filter?.statuses, CLIENT_CERTIFICATE_STATUSES, 'filter.statuses', 'status'), search };
}

export type ClientAccessService = ReturnType<typeof createClientAccessService>;
