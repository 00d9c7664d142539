// What a simulation run counts as its agents go: progress counters, outcomes, connections by role,
// errors and retries by kind, peak memory. The agents' script writes here; the run reads it back.
import { toSimulationError } from './errors.js';
import type { AgentRole } from './mix.js';

/** SimulationProgress is a snapshot of the run; counts of agents unless named otherwise. */
export interface SimulationProgress {
  elapsedMs: number;
  agents: number;
  started: number;
  enrolled: number;
  /** Requests approved through approveClients. */
  approved: number;
  /** Agents that authenticated (AUTHENTICATION_SUCCEEDED) at least once. */
  connected: number;
  /** Agents refused as their part says (426 for 9.x, 403 not approved or revoked) at least once. */
  failedAsExpected: number;
  /** Certificates revoked through revokeClientCertificate. */
  revoked: number;
  /** Agents past their first round (done, or waiting for the next), errors included, interrupted ones not. */
  finished: number;
  /** Agents stopped by an unexpected error. */
  errors: number;
  /** Gateway requests that failed on the network and were tried again. */
  retries: number;
  gatewayRequests: number;
  graphqlCalls: number;
  /** finished / elapsed seconds. */
  agentsPerSecond: number;
  requestsPerSecond: number;
  rssBytes: number;
}

/** AgentOutcome is how one agent's run ended. */
/** notRun: never started (the run was interrupted first); cancelled: stopped part-way by an interruption. */
export type AgentOutcome = 'succeeded' | 'mustUpgrade' | 'notApproved' | 'revoked' | 'neverConnected' | 'error' | 'cancelled' | 'notRun';

/** RunCounts are the counters of SimulationProgress that the agents move. */
export type RunCounts = Pick<
  SimulationProgress,
  'started' | 'enrolled' | 'approved' | 'connected' | 'failedAsExpected' | 'revoked' | 'finished' | 'errors' | 'retries' | 'gatewayRequests'
>;

/** RunStatistics holds one run's counters; snapshot() reads them as progress, and records the peak RSS. */
export class RunStatistics {
  readonly counts: RunCounts = {
    started: 0,
    enrolled: 0,
    approved: 0,
    connected: 0,
    failedAsExpected: 0,
    revoked: 0,
    finished: 0,
    errors: 0,
    retries: 0,
    gatewayRequests: 0,
  };
  readonly outcomes: Record<AgentOutcome, number> = { succeeded: 0, mustUpgrade: 0, notApproved: 0, revoked: 0, neverConnected: 0, error: 0, cancelled: 0, notRun: 0 };
  /** Connection attempts (connect and scan-results) by role. */
  readonly connectionsByRole: Record<AgentRole, number> = { healthy: 0, old: 0, neverApproved: 0, revoked: 0, neverConnect: 0 };
  private readonly errorKinds = new Map<string, { count: number; example: string }>();
  private readonly retriedKinds = new Map<string, number>();
  private peakRss = process.memoryUsage.rss();
  private lastFirstRoundAt: number;

  constructor(
    /** performance.now() when the run started. */
    private readonly startedAt: number,
    private readonly agents: number,
    /** How many GraphQL calls the admin side has made so far. */
    private readonly graphqlCalls: () => number,
  ) {
    this.lastFirstRoundAt = startedAt;
  }

  snapshot(): SimulationProgress {
    const elapsedMs = performance.now() - this.startedAt;
    const rss = process.memoryUsage.rss();
    this.peakRss = Math.max(this.peakRss, rss);
    const seconds = Math.max(elapsedMs / 1000, 0.001);
    return {
      elapsedMs,
      agents: this.agents,
      ...this.counts,
      graphqlCalls: this.graphqlCalls(),
      agentsPerSecond: this.counts.finished / seconds,
      requestsPerSecond: this.counts.gatewayRequests / seconds,
      rssBytes: rss,
    };
  }

  /** recordError counts an unexpected error that stopped an agent, grouped by its kind. */
  recordError(err: unknown, step: string): void {
    const e = toSimulationError(step, err);
    this.counts.errors++;
    const entry = this.errorKinds.get(e.kind);
    if (entry) entry.count++;
    else this.errorKinds.set(e.kind, { count: 1, example: e.message.slice(0, 300) });
  }

  /** recordRetry counts a gateway request tried again, by why. */
  recordRetry(kind: string): void {
    this.counts.retries++;
    this.retriedKinds.set(kind, (this.retriedKinds.get(kind) ?? 0) + 1);
  }

  /** recordFirstRoundDone counts an agent past its first round (not one cancelled in it). */
  recordFirstRoundDone(): void {
    this.counts.finished++;
    this.lastFirstRoundAt = performance.now();
  }

  /** From the start until the last agent finished its first round. */
  get firstRoundMs(): number {
    return this.lastFirstRoundAt - this.startedAt;
  }

  get peakRssBytes(): number {
    return this.peakRss;
  }

  /** Unexpected errors grouped by kind, most frequent first. */
  errorList(): { kind: string; count: number; example: string }[] {
    return [...this.errorKinds].map(([kind, v]) => ({ kind, ...v })).sort((x, y) => y.count - x.count);
  }

  /** Retried failures by kind, most frequent first. */
  retriedList(): { kind: string; count: number }[] {
    return [...this.retriedKinds].map(([kind, count]) => ({ kind, count })).sort((x, y) => y.count - x.count);
  }
}
