// A simulation run: checks it talks to one core, imports the 9.x agents' devices, lets agents in a
// window at a time (each plays agent-script.ts), then compares the chart with what the mix implies.
import { randomBytes, randomInt } from 'node:crypto';
import { fetchCaCertificate } from '../agent-client/agent-client.js';
import { createAdminApi, type TokenSource } from './admin-api.js';
import { AGENT_PRIORITIES, AgentScript, newAgent, OLD_AGENT_VERSION } from './agent-script.js';
import { createApprover } from './approver.js';
import { SimulationError } from './errors.js';
import {
  assignRoles,
  countsOf,
  expectedSummary,
  mixCounts,
  roleAt,
  type AgentRole,
  type MixCounts,
  type MixShares,
  type SummaryCounts,
} from './mix.js';
import { createSleeper } from './sleeper.js';
import { Slots } from './slots.js';
import { RunStatistics, type AgentOutcome, type SimulationProgress } from './statistics.js';

export type { AgentRole, MixCounts, MixShares, SummaryCounts } from './mix.js';
export type { TokenSource } from './admin-api.js';
export type { AgentOutcome, SimulationProgress } from './statistics.js';

/** SimulationOptions describes one run of simulated agents against a running core. */
export interface SimulationOptions {
  /** The core's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  graphqlUrl: string;
  /** The core's agent gateway, e.g. https://127.0.0.1:4443. */
  agentUrl: string;
  /** A SECURITY_ADMIN token, or a function that gives a current one. */
  token: TokenSource;
  /** How many agents to play (at least 1). */
  agents: number;
  mix?: MixShares;
  /** How many agents act at once (default 50). */
  concurrency?: number;
  /** Request ids per approveClients call (default 500, the core's maximum). */
  approveBatch?: number;
  /** How long the approver waits for a batch to fill before sending what it has (default 1000 ms). */
  approveWaitMs?: number;
  /** Revocations sent at once (default 4). */
  adminConcurrency?: number;
  /** Time between an agent's connections after its first (default 60 s, ±10 % so agents spread out). */
  intervalMs?: number;
  /** Connections per agent (default 1, or as many as durationMs allows when that is set). */
  rounds?: number;
  /** Keep agents reconnecting every intervalMs until this long after the start; every agent still completes its first round. */
  durationMs?: number;
  /** How often onProgress is called (default 1000 ms); it is called once more at the end. */
  progressIntervalMs?: number;
  /** Agent ids are <prefix>-<number>; default sim-<6 random hex digits>, new for each run. */
  agentIdPrefix?: string;
  /** Fixes which agent plays which part (default: random). */
  seed?: number;
  /** Per gateway request (default 15 s). */
  requestTimeoutMs?: number;
  /** Per GraphQL call (default 120 s: one approveClients issues up to 500 certificates). */
  adminTimeoutMs?: number;
  /** Further tries of a gateway request that failed on the network (default 2). */
  retries?: number;
  /** Aborting stops agents at their next step; the run then ends with interrupted: true. */
  signal?: AbortSignal;
}

/** SimulationResult is what a run did and whether the chart agrees with it. */
export interface SimulationResult {
  settings: {
    agents: number;
    concurrency: number;
    approveBatch: number;
    rounds: number | null;
    intervalMs: number;
    durationMs: number | null;
    agentIdPrefix: string;
    seed: number;
  };
  mix: MixCounts;
  outcomes: Record<AgentOutcome, number>;
  progress: SimulationProgress;
  elapsedMs: number;
  /** From the start until the last agent finished its first round (enrolled, approved, connected as its part says). */
  firstRoundMs: number;
  /** Agents whose first round finished, per second of firstRoundMs. */
  agentsPerSecond: number;
  peakRssBytes: number;
  /** Connection attempts (connect and scan-results) by role. */
  connectionsByRole: Record<AgentRole, number>;
  approvalBatches: { calls: number; largest: number };
  summaryBefore: SummaryCounts;
  summaryAfter: SummaryCounts;
  /** What the chart should show: before, plus what the mix implies. */
  summaryExpected: SummaryCounts;
  summaryMatches: boolean;
  /** Unexpected errors grouped by kind, most frequent first; example is one message of that kind. */
  errors: { kind: string; count: number; example: string }[];
  /** Network failures that were tried again, by kind. */
  retried: { kind: string; count: number }[];
  interrupted: boolean;
  /** No unexpected error, the chart matches the mix, and the run was not interrupted. */
  ok: boolean;
}

const DEFAULTS = {
  concurrency: 50,
  approveBatch: 500,
  approveWaitMs: 1000,
  adminConcurrency: 4,
  intervalMs: 60_000,
  progressIntervalMs: 1000,
  requestTimeoutMs: 15_000,
  adminTimeoutMs: 120_000,
  retries: 2,
} as const;

/** registerDevices takes at most this many devices per call. */
const IMPORT_BATCH = 1000;

/**
 * runSimulation plays opts.agents device agents against a running core over the real protocol:
 * enrollment with a CSR, approval in batches through GraphQL, polling, mutual TLS connections and
 * scanner reports, revocation; then reads authStatusSummary and compares it with what the mix implies.
 * It throws SimulationError only when the run cannot start (core unreachable, token refused, CA mismatch).
 */
export async function runSimulation(
  opts: SimulationOptions,
  onProgress?: (progress: SimulationProgress) => void,
): Promise<SimulationResult> {
  const started = performance.now();
  if (!Number.isInteger(opts.agents) || opts.agents < 1) throw new RangeError(`agents must be a whole number of at least 1 (got ${opts.agents})`);
  const concurrency = opts.concurrency ?? DEFAULTS.concurrency;
  const approveBatch = opts.approveBatch ?? DEFAULTS.approveBatch;
  const intervalMs = opts.intervalMs ?? DEFAULTS.intervalMs;
  const durationMs = opts.durationMs ?? null;
  const rounds = opts.rounds ?? (durationMs === null ? 1 : null);
  const retries = opts.retries ?? DEFAULTS.retries;
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  const seed = opts.seed ?? randomInt(2 ** 31);
  const prefix = opts.agentIdPrefix ?? `sim-${randomBytes(3).toString('hex')}`;
  if (rounds !== null && (!Number.isInteger(rounds) || rounds < 1)) throw new RangeError(`rounds must be a whole number of at least 1 (got ${rounds})`);
  if (!Number.isInteger(approveBatch) || approveBatch < 1) throw new RangeError(`approveBatch must be a whole number of at least 1 (got ${approveBatch})`);
  const mix = mixCounts(opts.agents, opts.mix ?? {});
  const roles = assignRoles(mix, seed);
  const signal = opts.signal;
  const deadline = durationMs === null ? null : Date.now() + durationMs;

  const api = createAdminApi(opts.graphqlUrl, opts.token, opts.adminTimeoutMs ?? DEFAULTS.adminTimeoutMs);
  const summaryBefore = countsOf(await api.summary());
  const ca = await api.certificateAuthority();
  let served: { fingerprint: string };
  try {
    served = await fetchCaCertificate(opts.agentUrl, requestTimeoutMs);
  } catch (err) {
    throw new SimulationError('gateway: unreachable', `cannot read the CA from the agent gateway at ${opts.agentUrl}: ${(err as Error).message}`);
  }
  if (served.fingerprint !== ca.fingerprint) {
    throw new SimulationError('gateway: other core', `the agent gateway at ${opts.agentUrl} serves another CA than the GraphQL API at ${opts.graphqlUrl}: not the same core`);
  }
  const caCertificatePem = ca.certificatePem;

  const stats = new RunStatistics(started, opts.agents, () => api.calls);
  const p = stats.counts;
  const adminSlots = new Slots(opts.adminConcurrency ?? DEFAULTS.adminConcurrency, 1);
  const approver = createApprover(api, approveBatch, opts.approveWaitMs ?? DEFAULTS.approveWaitMs);
  const script = new AgentScript({
    agentUrl: opts.agentUrl,
    caCertificatePem,
    requestTimeoutMs,
    retries,
    rounds,
    intervalMs,
    deadline,
    signal,
    slots: new Slots(concurrency, AGENT_PRIORITIES),
    approver,
    revoke: (requestId) => adminSlots.run(0, () => api.revokeClientCertificate(requestId)),
    sleep: createSleeper(signal),
    stats,
  });

  const width = String(opts.agents).length;
  const makeAgent = (i: number) => newAgent(`${prefix}-${String(i + 1).padStart(width, '0')}`, roleAt(roles, i));

  const progressTimer = setInterval(() => {
    const now = stats.snapshot();
    onProgress?.(now);
  }, opts.progressIntervalMs ?? DEFAULTS.progressIntervalMs);
  let interrupted = false;
  try {
    // A 9.x agent cannot enroll: its device is known from an inventory import, as in a real fleet.
    const old: { name: string; agentId: string; agentVersion: string }[] = [];
    for (let i = 0; i < opts.agents; i++) {
      if (roleAt(roles, i) !== 'old') continue;
      const a = makeAgent(i);
      old.push({ name: a.deviceName, agentId: a.agentId, agentVersion: OLD_AGENT_VERSION });
      if (old.length === IMPORT_BATCH) await api.registerDevices(old.splice(0));
    }
    if (old.length > 0) await api.registerDevices(old);

    // Agents are let in a window at a time, so the ones in flight (and their keys and sockets) stay bounded.
    const window = Math.max(4 * concurrency, 2 * approveBatch);
    await new Promise<void>((resolveAll) => {
      let next = 0;
      let inFirstRound = 0;
      let live = 0;
      const maybeDone = () => {
        if (live === 0 && (next >= opts.agents || signal?.aborted)) resolveAll();
      };
      const admit = () => {
        while (inFirstRound < window && next < opts.agents && !signal?.aborted) {
          const a = makeAgent(next++);
          inFirstRound++;
          live++;
          p.started++;
          void script.play(a, (cancelled) => {
            inFirstRound--;
            if (!cancelled) stats.recordFirstRoundDone();
            admit();
          }).finally(() => {
            live--;
            maybeDone();
          });
        }
      };
      signal?.addEventListener('abort', maybeDone, { once: true });
      admit();
      maybeDone();
    });
  } finally {
    clearInterval(progressTimer);
    approver.close();
  }
  interrupted = signal?.aborted === true;
  stats.outcomes.notRun += opts.agents - p.started;

  const summaryAfter = countsOf(await api.summary());
  const summaryExpected = expectedSummary(summaryBefore, mix);
  const summaryMatches = (Object.keys(summaryExpected) as (keyof SummaryCounts)[]).every((k) => summaryAfter[k] === summaryExpected[k]);
  const progress = stats.snapshot();
  onProgress?.(progress);
  const elapsedMs = performance.now() - started;
  return {
    settings: { agents: opts.agents, concurrency, approveBatch, rounds, intervalMs, durationMs, agentIdPrefix: prefix, seed },
    mix,
    outcomes: stats.outcomes,
    progress,
    elapsedMs,
    firstRoundMs: stats.firstRoundMs,
    agentsPerSecond: p.finished / Math.max(stats.firstRoundMs / 1000, 0.001),
    peakRssBytes: stats.peakRssBytes,
    connectionsByRole: stats.connectionsByRole,
    approvalBatches: approver.stats(),
    summaryBefore,
    summaryAfter,
    summaryExpected,
    summaryMatches,
    errors: stats.errorList(),
    retried: stats.retriedList(),
    interrupted,
    ok: p.errors === 0 && summaryMatches && !interrupted,
  };
}
