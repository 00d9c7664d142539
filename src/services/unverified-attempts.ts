import { insertAuditEvent } from '../db/audit-queries.js';
import { recordUnverifiedAttempts, type UnverifiedAttemptRow } from '../db/history-queries.js';
import { outsideLogContext } from '../logger.js';
import { noMetrics } from '../metrics/sink.js';
import type { ServiceDeps } from './deps.js';
import { transact } from './transaction.js';

/**
 * Attempts that proved no key on file change no device (DESIGN.md, "Proof before status"), but an
 * admin must see them: each device keeps a count and its latest few attempts in its history, and
 * the audit log gets one summary at most every AUDIT_INTERVAL_MS. Nothing here grows with the
 * number of attempts: a flood costs one small transaction per FLUSH_MS, whatever its rate, and a
 * stranger's answer never waits for it (so it cannot tell a known agent id by the time it takes).
 */

export interface UnverifiedAttemptLogOptions {
  /** Unverified attempts kept in a device's history, the newest. */
  keepPerDevice: number;
  /** How long attempts gather in memory before one transaction writes them. */
  flushMs: number;
  /** At most one audit summary per this many ms per replica (the first attempt after a quiet spell goes out at the next flush). */
  auditIntervalMs: number;
  /** Devices gathered per flush; attempts on further devices are only counted in the audit summary. */
  maxDevicesPerFlush: number;
}

export const DEFAULT_UNVERIFIED_OPTIONS: UnverifiedAttemptLogOptions = {
  keepPerDevice: 5,
  flushMs: 1_000,
  auditIntervalMs: 60_000,
  maxDevicesPerFlush: 5_000,
};

const SAMPLE = 20;
const ADDRESSES = 3;

/** An attempt about a known device that proved no key on file for it. */
export type UnverifiedAttempt = UnverifiedAttemptRow & { agentId: string };

interface Gathered {
  agentId: string;
  count: number;
  lastAt: Date;
  latest: UnverifiedAttemptRow[];
}

interface AuditSummary {
  since: Date | null;
  attempts: number;
  devices: Map<string, { attempts: number; reasons: Set<string>; addresses: Set<string> }>;
  /** Attempts on devices beyond the sample (or beyond maxDevicesPerFlush). */
  unlisted: number;
  unknown: { attempts: number; agentIds: Set<string>; addresses: Set<string> };
}

const emptySummary = (): AuditSummary => ({
  since: null,
  attempts: 0,
  devices: new Map(),
  unlisted: 0,
  unknown: { attempts: 0, agentIds: new Set(), addresses: new Set() },
});

const addBounded = (set: Set<string>, value: string | null, max: number) => {
  if (value !== null && value !== '' && set.size < max) set.add(value);
};

/** createUnverifiedAttemptLog gathers unverified and unknown-agent attempts and writes them in bounded batches. */
export function createUnverifiedAttemptLog(deps: ServiceDeps, options: Partial<UnverifiedAttemptLogOptions> = {}) {
  const opts = { ...DEFAULT_UNVERIFIED_OPTIONS, ...options };
  let gathered = new Map<number, Gathered>();
  let summary = emptySummary();
  let lastAuditAt = 0;
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> | null = null;
  // How many attempts had been noted when the flush under way started.
  let flushingMark = 0;
  let stopped = false;
  const totals = { unverified: 0, unknownAgent: 0 };
  const metrics = deps.metrics ?? noMetrics;

  function schedule(delayMs = opts.flushMs) {
    if (timer !== null || stopped) return;
    // The flush writes many attempts: it logs under none of their request ids.
    timer = outsideLogContext(() =>
      setTimeout(() => {
        timer = null;
        void flush();
      }, delayMs),
    );
    timer.unref();
  }

  function noteInSummary(agentId: string, reason: string, address: string | null, at: Date) {
    summary.since ??= at;
    summary.attempts++;
    let d = summary.devices.get(agentId);
    if (!d) {
      if (summary.devices.size >= SAMPLE) {
        summary.unlisted++;
        return;
      }
      d = { attempts: 0, reasons: new Set(), addresses: new Set() };
      summary.devices.set(agentId, d);
    }
    d.attempts++;
    d.reasons.add(reason);
    addBounded(d.addresses, address, ADDRESSES);
  }

  async function write(batch: Map<number, Gathered>, audit: AuditSummary | null, now: Date): Promise<void> {
    const rows = [...batch.values()].flatMap((g) => g.latest);
    const counts = [...batch.entries()].map(([deviceId, g]) => ({ deviceId, count: g.count, lastAt: g.lastAt }));
    await transact(deps, async (tx) => {
      await recordUnverifiedAttempts(tx, rows, counts, opts.keepPerDevice);
      if (audit) {
        await insertAuditEvent(tx, {
          actor: 'system:agent-gateway',
          action: 'agent.unverifiedAttempts',
          targetId: null,
          details: {
            since: audit.since?.toISOString(),
            until: now.toISOString(),
            attempts: audit.attempts,
            devices: [...audit.devices.entries()].map(([agentId, d]) => ({
              agentId,
              attempts: d.attempts,
              reasons: [...d.reasons].sort(),
              addresses: [...d.addresses],
            })),
            attemptsOnOtherDevices: audit.unlisted,
            unknownAgentIds: {
              attempts: audit.unknown.attempts,
              sample: [...audit.unknown.agentIds],
              addresses: [...audit.unknown.addresses],
            },
          },
          at: now,
        });
      }
    });
  }

  /**
   * flush writes what has gathered; the audit summary goes out with it once its interval has passed.
   * A flush already under way took only what had gathered when it started: wait for it, then write
   * what was noted after it started, so that what was noted before this call is written when it
   * resolves. (Counts a failed write kept wait for their scheduled retry.)
   */
  async function flush(): Promise<void> {
    if (flushing) {
      const mark = flushingMark;
      await flushing;
      if (totals.unverified + totals.unknownAgent > mark) return flush();
      return;
    }
    const run = async () => {
      flushingMark = totals.unverified + totals.unknownAgent;
      const batch = gathered;
      gathered = new Map();
      const now = deps.clock();
      const auditDue = summary.attempts + summary.unknown.attempts > 0 && now.getTime() - lastAuditAt >= opts.auditIntervalMs;
      if (batch.size === 0 && !auditDue) {
        if (summary.attempts + summary.unknown.attempts > 0) schedule(lastAuditAt + opts.auditIntervalMs - now.getTime());
        return;
      }
      const audit = auditDue ? summary : null;
      if (audit) summary = emptySummary();
      try {
        await write(batch, audit, now);
        if (audit) lastAuditAt = now.getTime();
      } catch (err) {
        // The database is away or refused: keep the counts (not the rows) for the next flush, bounded as before.
        deps.log.warn('could not record unverified connection attempts; keeping their counts for the next try', {
          devices: batch.size,
          error: (err as Error).message,
        });
        for (const [deviceId, g] of batch) {
          const again = gathered.get(deviceId);
          if (again) again.count += g.count;
          else if (gathered.size < opts.maxDevicesPerFlush) gathered.set(deviceId, { ...g, latest: [] });
        }
        if (audit) mergeSummary(audit);
      }
      if (gathered.size > 0 || summary.attempts + summary.unknown.attempts > 0) {
        schedule(gathered.size > 0 ? opts.flushMs : Math.max(opts.flushMs, lastAuditAt + opts.auditIntervalMs - deps.clock().getTime()));
      }
    };
    flushing = run().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  function mergeSummary(old: AuditSummary) {
    const fresh = summary;
    summary = old;
    summary.attempts += fresh.attempts;
    summary.unlisted += fresh.unlisted;
    for (const [agentId, d] of fresh.devices) {
      const mine = summary.devices.get(agentId);
      if (mine) {
        mine.attempts += d.attempts;
        d.reasons.forEach((r) => mine.reasons.add(r));
        d.addresses.forEach((a) => addBounded(mine.addresses, a, ADDRESSES));
      } else if (summary.devices.size < SAMPLE) summary.devices.set(agentId, d);
      else summary.unlisted += d.attempts;
    }
    summary.unknown.attempts += fresh.unknown.attempts;
    fresh.unknown.agentIds.forEach((a) => addBounded(summary.unknown.agentIds, a, 5));
    fresh.unknown.addresses.forEach((a) => addBounded(summary.unknown.addresses, a, 5));
  }

  return {
    /** note keeps an attempt about a known device that proved no key on file; it returns at once. */
    note(attempt: UnverifiedAttempt): void {
      totals.unverified++;
      metrics.unverifiedAttempt(attempt.unverifiedReason);
      noteInSummary(attempt.agentId, attempt.unverifiedReason, attempt.remoteAddress, attempt.at);
      let g = gathered.get(attempt.deviceId);
      if (!g) {
        if (gathered.size >= opts.maxDevicesPerFlush) return;
        g = { agentId: attempt.agentId, count: 0, lastAt: attempt.at, latest: [] };
        gathered.set(attempt.deviceId, g);
      }
      g.count++;
      if (attempt.at > g.lastAt) g.lastAt = attempt.at;
      const { agentId: _agentId, ...row } = attempt;
      g.latest.push(row);
      if (g.latest.length > opts.keepPerDevice) g.latest.shift();
      schedule();
    },

    /** noteUnknownAgent counts an attempt naming an agent id this core does not know; it returns at once. */
    noteUnknownAgent(attempt: { agentId: string; remoteAddress: string | null; at: Date }): void {
      totals.unknownAgent++;
      metrics.unverifiedAttempt('UNKNOWN_AGENT');
      summary.since ??= attempt.at;
      summary.unknown.attempts++;
      addBounded(summary.unknown.agentIds, attempt.agentId, 5);
      addBounded(summary.unknown.addresses, attempt.remoteAddress, 5);
      schedule();
    },

    flush,

    /** totals counts, since start, the attempts this replica saw (for metrics). */
    totals(): Readonly<typeof totals> {
      return { ...totals };
    },

    /** stop writes what is left and stops the timer. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      // Whatever gathered goes out now, the audit summary too (the interval does not outlive the process).
      lastAuditAt = 0;
      await flush();
    },
  };
}

export type UnverifiedAttemptLog = ReturnType<typeof createUnverifiedAttemptLog>;
