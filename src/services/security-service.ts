import { insertAuditEvent } from '../db/audit-queries.js';
import { getCountersAndSwitch } from '../db/counter-queries.js';
import { enableSecuritySwitch, getCoreSettings } from '../db/settings-queries.js';
import { badInput } from './app-error.js';
import type { AuthorityInfo } from './authority-service.js';
import { requireAdmin, requireViewer, type Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';
import { transact } from './transaction.js';
import { summaryView, type AuthStatusSummaryView } from './views.js';

/** The longest a remembered summary is served without a change event having dropped it. */
export const SUMMARY_CACHE_MS = 1000;

export interface SecuritySettingsView {
  clientCertificateSecurityEnabled: boolean;
  enabledAt: Date | null;
  enabledBy: string | null;
  certificateAuthority: { subject: string; certificatePem: string; fingerprint: string; notAfter: Date };
  devicesNotReady: number;
}

/** createSecurityService is the Security settings page: the chart and the irreversible switch. */
export function createSecurityService(deps: ServiceDeps & { authority: AuthorityInfo }) {
  const { db } = deps;

  async function settingsView(): Promise<SecuritySettingsView> {
    const [settings, { counts }] = await Promise.all([getCoreSettings(db), getCountersAndSwitch(db)]);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const { subject, certificatePem, fingerprint, notAfter } = deps.authority;
    return {
      clientCertificateSecurityEnabled: settings.clientCertificateSecurityEnabled,
      enabledAt: settings.enabledAt,
      enabledBy: settings.enabledBy,
      certificateAuthority: { subject, certificatePem, fingerprint, notAfter },
      devicesNotReady: total - counts.AUTHENTICATION_SUCCEEDED,
    };
  }

  async function readSummary(): Promise<AuthStatusSummaryView> {
    const { counts, securityEnabled } = await getCountersAndSwitch(db);
    return summaryView(counts, securityEnabled, deps.clock());
  }

  // The chart read over the API is served from memory between changes: every summaryChanged (from
  // this replica at its commit, from others through the bus) drops it, and it is never older than
  // SUMMARY_CACHE_MS in case a change reached the counters without an event (e.g. bulk seeding).
  // Its age is wall time (Date.now), not deps.clock: the clock says what time the rules see, and
  // a core run with a frozen clock (tests, simulations) would otherwise keep a stale chart forever.
  let cached: { view: Promise<AuthStatusSummaryView>; until: number } | undefined;
  const invalidateSummary = () => {
    cached = undefined;
  };
  deps.bus.subscribe((e) => {
    if (e.type === 'summaryChanged') invalidateSummary();
  });
  function cachedSummary(): Promise<AuthStatusSummaryView> {
    const now = Date.now();
    if (cached && cached.until > now) return cached.view;
    const entry = { view: readSummary(), until: now + SUMMARY_CACHE_MS };
    cached = entry;
    entry.view.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return entry.view;
  }

  return {
    /** getAuthStatusSummary reads the chart from the kept counters: one small read at any fleet size. */
    async getAuthStatusSummary(caller: Caller): Promise<AuthStatusSummaryView> {
      requireViewer(caller);
      return cachedSummary();
    },

    /** invalidateSummary drops the remembered summary: called for this replica's own changes at their commit. */
    invalidateSummary,

    /** readSummary is the summary without a caller, for pushes to already authorised subscribers. */
    readSummary,

    /** getSecuritySettings reads the switch, the CA and how many devices are not ready. */
    async getSecuritySettings(caller: Caller): Promise<SecuritySettingsView> {
      requireViewer(caller);
      return settingsView();
    },

    /**
     * enableClientCertificateSecurity turns the security model on for good. A second call changes
     * nothing and keeps the first enabledAt/enabledBy.
     */
    async enableClientCertificateSecurity(caller: Caller, confirm: boolean): Promise<SecuritySettingsView> {
      requireAdmin(caller);
      if (confirm !== true) {
        throw badInput(
          'enabling client certificate-based security cannot be undone: pass confirm: true to enable it',
          'confirm',
        );
      }
      const now = deps.clock();
      const turnedOn = await transact(deps, async (tx, outbox) => {
        const turnedOn = await enableSecuritySwitch(tx, caller.subject, now);
        if (!turnedOn) return false;
        const { counts } = await getCountersAndSwitch(tx);
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        await insertAuditEvent(tx, {
          actor: caller.subject,
          action: 'security.enabled',
          details: { devicesNotReady: total - counts.AUTHENTICATION_SUCCEEDED },
          at: now,
        });
        outbox.publish({ type: 'summaryChanged' });
        return true;
      });
      deps.log.info(turnedOn ? 'client certificate security enabled' : 'client certificate security was already enabled', {
        action: 'security.enabled',
        actor: caller.subject,
        changed: turnedOn,
      });
      return settingsView();
    },
  };
}

export type SecurityService = ReturnType<typeof createSecurityService>;
