import {
  countApprovedExpiringUpTo,
  getCrlNextUpdate,
  readCertificateStatusCounts,
  type CertificateStatusCounts,
} from '../db/certificate-figures-queries.js';
import { getCountersAndSwitch } from '../db/counter-queries.js';
import { AUTH_STATUSES } from '../domain/statuses.js';
import { DAY_MS } from '../domain/time.js';
import { isFullyManageable } from './auth-status-rules.js';
import type { AuthorityInfo } from './authority-service.js';
import type { ServiceDeps } from './deps.js';
import { summaryView, type AuthStatusSummaryView } from './views.js';

/** EXPIRING_SOON_DAYS is the window of "certificates expiring soon". */
export const EXPIRING_SOON_DAYS = 30;
/** EXPIRING_SOON_CAP bounds that count's index read: a figure at the cap means at least that many. */
export const EXPIRING_SOON_CAP = 100_000;

/** FleetFigures are the figures an operator watches, each read at a cost that does not grow with the fleet. */
export interface FleetFigures {
  /** The chart, from the kept counters: the same figures as authStatusSummary. */
  summary: AuthStatusSummaryView;
  /** Devices that are not fully manageable: while the security model is on, every device not AUTHENTICATION_SUCCEEDED. */
  devicesNotFullyManageable: number;
  /** Requests and certificates per status, from the kept ledger (PENDING: requests waiting for a decision). */
  certificatesByStatus: CertificateStatusCounts;
  /** Approved certificates whose validity ends within EXPIRING_SOON_DAYS (at most EXPIRING_SOON_CAP). */
  certificatesExpiringSoon: number;
  crlNextUpdate: Date | null;
  caNotAfter: Date;
}

/** createFleetFigures reads the operators' figures: a few small reads, none of them over the devices. */
export function createFleetFigures(deps: ServiceDeps & { authority: AuthorityInfo }) {
  return {
    async read(): Promise<FleetFigures> {
      const now = deps.clock();
      const { db } = deps;
      // One after the other: on the embedded database they would queue anyway, and a scrape is not in a hurry.
      const { counts, securityEnabled } = await getCountersAndSwitch(db);
      const certificatesByStatus = await readCertificateStatusCounts(db);
      const soon = new Date(now.getTime() + EXPIRING_SOON_DAYS * DAY_MS);
      const certificatesExpiringSoon = await countApprovedExpiringUpTo(db, now, soon, EXPIRING_SOON_CAP);
      const crlNextUpdate = await getCrlNextUpdate(db);
      return {
        summary: summaryView(counts, securityEnabled, now),
        devicesNotFullyManageable: AUTH_STATUSES.filter((s) => !isFullyManageable(s, securityEnabled)).reduce((n, s) => n + counts[s], 0),
        certificatesByStatus,
        certificatesExpiringSoon,
        crlNextUpdate,
        caNotAfter: deps.authority.notAfter,
      };
    },
  };
}

export type FleetFiguresService = ReturnType<typeof createFleetFigures>;
