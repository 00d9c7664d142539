import { X509Certificate, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import {
  createAgentClient,
  fetchCaCertificate,
  generateAgentKeyPair,
  type AgentClient,
  type AgentResponse,
} from '../agent-client/agent-client.js';
import { createAdminApi, type AdminApi, type TokenSource } from './admin-api.js';
import { SimulationError, toSimulationError } from './errors.js';
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
import { Slots } from './slots.js';

export type { AgentRole, MixCounts, MixShares, SummaryCounts } from './mix.js';
export type { TokenSource } from './admin-api.js';

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

/** The version a current agent reports, and the one a 9.x agent does. */
export const CURRENT_AGENT_VERSION = '2024.1';
export const OLD_AGENT_VERSION = '9.60';
/** registerDevices takes at most this many devices per call. */
const IMPORT_BATCH = 1000;
// Agents of a later step go first (see Slots): a repeat round or the connection after a revocation, then a first poll and connection, then a new enrollment.
const PRI_ROUND = 0;
const PRI_CONNECT = 1;
const PRI_ENROLL = 2;

/** Cancelled ends an agent's run when the simulation is aborted. */
class Cancelled extends Error {}

interface SimAgent {
  agentId: string;
  deviceName: string;
  role: AgentRole;
  keyPair: { privateKey: KeyObject; publicKey: KeyObject } | null;
  requestId: string | null;
  certificatePem: string | null;
  /** refused: it has been refused as its part says at least once (counted once in failedAsExpected). */
  refused: boolean;
}

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

  // ---- counters
  const p = {
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
  const outcomes: Record<AgentOutcome, number> = { succeeded: 0, mustUpgrade: 0, notApproved: 0, revoked: 0, neverConnected: 0, error: 0, cancelled: 0, notRun: 0 };
  const connectionsByRole: Record<AgentRole, number> = { healthy: 0, old: 0, neverApproved: 0, revoked: 0, neverConnect: 0 };
  const errorKinds = new Map<string, { count: number; example: string }>();
  const retriedKinds = new Map<string, number>();
  let peakRss = process.memoryUsage.rss();
  let lastFirstRoundAt = started;

  const snapshot = (): SimulationProgress => {
    const elapsedMs = performance.now() - started;
    const rss = process.memoryUsage.rss();
    peakRss = Math.max(peakRss, rss);
    const seconds = Math.max(elapsedMs / 1000, 0.001);
    return {
      elapsedMs,
      agents: opts.agents,
      ...p,
      graphqlCalls: api.calls,
      agentsPerSecond: p.finished / seconds,
      requestsPerSecond: p.gatewayRequests / seconds,
      rssBytes: rss,
    };
  };
  const recordError = (err: unknown, step: string) => {
    const e = toSimulationError(step, err);
    p.errors++;
    const entry = errorKinds.get(e.kind);
    if (entry) entry.count++;
    else errorKinds.set(e.kind, { count: 1, example: e.message.slice(0, 300) });
  };

  const slots = new Slots(concurrency, 3);
  const adminSlots = new Slots(opts.adminConcurrency ?? DEFAULTS.adminConcurrency, 1);
  const approver = createApprover(api, approveBatch, opts.approveWaitMs ?? DEFAULTS.approveWaitMs);

  const sleep = createSleeper(signal);
  const checkCancel = () => {
    if (signal?.aborted) throw new Cancelled();
  };

  /** act holds a slot while one agent talks to the gateway, with a client that lives only as long. */
  async function act<T>(a: SimAgent, priority: number, version: string, fn: (client: AgentClient) => Promise<T>): Promise<T> {
    checkCancel();
    return slots.run(priority, async () => {
      checkCancel();
      if (a.keyPair === null && a.role !== 'old') a.keyPair = generateAgentKeyPair('EC-P256');
      const client = createAgentClient({
        gatewayUrl: opts.agentUrl,
        caCertificatePem,
        agentId: a.agentId,
        deviceName: a.deviceName,
        agentVersion: version,
        keyPair: a.keyPair ?? sharedOldKey(),
        certificatePem: a.certificatePem ?? undefined,
        timeoutMs: requestTimeoutMs,
      });
      try {
        return await fn(client);
      } finally {
        // Closes this agent's sockets at once: at most `concurrency` agents hold connections.
        client.dropConnections();
      }
    });
  }

  /**
   * send makes one gateway request, trying again after a network failure, and after the time a
   * 429 or 503 answer's Retry-After asks for (at most a minute: a longer wait is not a hiccup).
   */
  async function send(step: string, request: () => Promise<AgentResponse>): Promise<AgentResponse> {
    let waits = 0;
    for (let attempt = 0; ; attempt++) {
      p.gatewayRequests++;
      try {
        const res = await request();
        const retryAfter = Number(res.headers['retry-after']);
        if ((res.status === 429 || res.status === 503) && retryAfter > 0 && retryAfter <= 60 && waits < 100 && !signal?.aborted) {
          waits++;
          p.retries++;
          retriedKinds.set(`HTTP ${res.status}`, (retriedKinds.get(`HTTP ${res.status}`) ?? 0) + 1);
          await sleep(retryAfter * 1000 * (0.5 + Math.random()));
          attempt--;
          continue;
        }
        return res;
      } catch (err) {
        const e = toSimulationError(step, err);
        if (!e.retriable || attempt >= retries || signal?.aborted) throw e;
        p.retries++;
        retriedKinds.set(e.kind, (retriedKinds.get(e.kind) ?? 0) + 1);
        await sleep(250 * (attempt + 1));
      }
    }
  }

  /** connectAndScan reports the agent's connection and a vulscan run over the same TLS connection, both with the expected verdict. */
  async function connectAndScan(a: SimAgent, client: AgentClient, want: Verdict): Promise<void> {
    const cert = a.role === 'old' ? 'none' : undefined;
    connectionsByRole[a.role] += 2;
    expectVerdict('connect', await send('connect', () => client.connect({ cert })), want);
    expectVerdict('scan-results', await send('scan-results', () => client.scanResults({ cert })), want);
  }

  async function poll(a: SimAgent, client: AgentClient, want: 'PENDING' | 'APPROVED'): Promise<void> {
    const res = await send('poll', () => client.poll(a.requestId!));
    const body = res.body as { status?: string; certificatePem?: string };
    if (res.status !== 200 || body.status !== want) throw unexpected('poll', res, `200 ${want}`);
    if (want === 'APPROVED') {
      if (typeof body.certificatePem !== 'string') throw new SimulationError('poll: no certificate', `request ${a.requestId} is APPROVED but came without its certificate`);
      if (!new X509Certificate(body.certificatePem).publicKey.equals(a.keyPair!.publicKey)) {
        throw new SimulationError('poll: certificate for another key', `request ${a.requestId}: the certificate is not for the agent's key`);
      }
      a.certificatePem = body.certificatePem;
      client.useCertificate(body.certificatePem);
    }
  }

  const VERDICT = {
    healthy: { http: 200, status: 'AUTHENTICATION_SUCCEEDED', reason: null },
    old: { http: 426, status: 'CLIENT_AGENTS_MUST_UPGRADE', reason: null },
    neverApproved: { http: 403, status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_NOT_APPROVED' },
    revoked: { http: 403, status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REVOKED' },
  } as const satisfies Record<string, Verdict>;

  const firstFailure = (a: SimAgent) => {
    if (!a.refused) {
      a.refused = true;
      p.failedAsExpected++;
    }
  };

  /** firstRound takes an agent from nothing to its part's first verdict; it returns the outcome so far. */
  async function firstRound(a: SimAgent): Promise<AgentOutcome> {
    if (a.role === 'old') {
      await act(a, PRI_CONNECT, OLD_AGENT_VERSION, (c) => connectAndScan(a, c, VERDICT.old));
      firstFailure(a);
      return 'mustUpgrade';
    }
    // act makes the agent's key (EC P-256, node:crypto) once it holds its slot, so at most `concurrency` are made at once.
    await act(a, PRI_ENROLL, CURRENT_AGENT_VERSION, async (c) => {
      const res = await send('enroll', () => c.enroll());
      const body = res.body as { requestId?: string; status?: string };
      if (res.status !== 202 || typeof body.requestId !== 'string' || body.status !== 'PENDING') throw unexpected('enroll', res, '202 PENDING');
      a.requestId = body.requestId;
      p.enrolled++;
    });
    if (a.role === 'neverApproved') {
      await act(a, PRI_CONNECT, CURRENT_AGENT_VERSION, async (c) => {
        await poll(a, c, 'PENDING');
        await connectAndScan(a, c, VERDICT.neverApproved);
      });
      firstFailure(a);
      return 'notApproved';
    }
    await approver.approve(a.requestId!);
    p.approved++;
    checkCancel();
    await act(a, PRI_CONNECT, CURRENT_AGENT_VERSION, async (c) => {
      await poll(a, c, 'APPROVED');
      if (a.role !== 'neverConnect') await connectAndScan(a, c, VERDICT.healthy);
    });
    if (a.role === 'neverConnect') return 'neverConnected';
    p.connected++;
    if (a.role === 'healthy') return 'succeeded';
    // revoked: the admin withdraws the certificate, and the agent's next connection is refused.
    checkCancel();
    await adminSlots.run(0, () => api.revokeClientCertificate(a.requestId!));
    p.revoked++;
    await act(a, PRI_ROUND, CURRENT_AGENT_VERSION, (c) => connectAndScan(a, c, VERDICT.revoked));
    firstFailure(a);
    return 'revoked';
  }

  /** laterRounds reconnects every interval while rounds or the duration allow. */
  async function laterRounds(a: SimAgent): Promise<void> {
    for (let round = 2; rounds === null || round <= rounds; round++) {
      const wait = Math.round(intervalMs * (0.9 + 0.2 * Math.random()));
      if (deadline !== null && Date.now() + wait > deadline) return;
      await sleep(wait);
      checkCancel();
      if (a.role === 'old') {
        await act(a, PRI_ROUND, OLD_AGENT_VERSION, (c) => connectAndScan(a, c, VERDICT.old));
      } else if (a.role === 'neverApproved') {
        await act(a, PRI_ROUND, CURRENT_AGENT_VERSION, async (c) => {
          await poll(a, c, 'PENDING');
          await connectAndScan(a, c, VERDICT.neverApproved);
        });
      } else {
        await act(a, PRI_ROUND, CURRENT_AGENT_VERSION, (c) => connectAndScan(a, c, a.role === 'revoked' ? VERDICT.revoked : VERDICT.healthy));
      }
    }
  }

  /** play is one agent's whole run; firstRoundDone lets the next agent in. */
  async function play(a: SimAgent, firstRoundDone: (cancelled: boolean) => void): Promise<void> {
    let outcome: AgentOutcome;
    try {
      outcome = await firstRound(a);
    } catch (err) {
      outcome = err instanceof Cancelled ? 'cancelled' : 'error';
      if (!(err instanceof Cancelled)) recordError(err, 'agent');
    }
    firstRoundDone(outcome === 'cancelled');
    if (outcome !== 'error' && outcome !== 'cancelled' && outcome !== 'neverConnected') {
      try {
        await laterRounds(a);
      } catch (err) {
        if (!(err instanceof Cancelled)) {
          recordError(err, 'reconnect');
          outcome = 'error';
        }
      }
    }
    outcomes[outcome]++;
  }

  const width = String(opts.agents).length;
  const makeAgent = (i: number): SimAgent => {
    const agentId = `${prefix}-${String(i + 1).padStart(width, '0')}`;
    return { agentId, deviceName: agentId.toUpperCase(), role: roleAt(roles, i), keyPair: null, requestId: null, certificatePem: null, refused: false };
  };

  const progressTimer = setInterval(() => {
    const now = snapshot();
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
          void play(a, (cancelled) => {
            inFirstRound--;
            if (!cancelled) {
              p.finished++;
              lastFirstRoundAt = performance.now();
            }
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
  outcomes.notRun += opts.agents - p.started;

  const summaryAfter = countsOf(await api.summary());
  const summaryExpected = expectedSummary(summaryBefore, mix);
  const summaryMatches = (Object.keys(summaryExpected) as (keyof SummaryCounts)[]).every((k) => summaryAfter[k] === summaryExpected[k]);
  const progress = snapshot();
  onProgress?.(progress);
  const elapsedMs = performance.now() - started;
  return {
    settings: { agents: opts.agents, concurrency, approveBatch, rounds, intervalMs, durationMs, agentIdPrefix: prefix, seed },
    mix,
    outcomes,
    progress,
    elapsedMs,
    firstRoundMs: lastFirstRoundAt - started,
    agentsPerSecond: p.finished / Math.max((lastFirstRoundAt - started) / 1000, 0.001),
    peakRssBytes: peakRss,
    connectionsByRole,
    approvalBatches: approver.stats(),
    summaryBefore,
    summaryAfter,
    summaryExpected,
    summaryMatches,
    errors: [...errorKinds].map(([kind, v]) => ({ kind, ...v })).sort((x, y) => y.count - x.count),
    retried: [...retriedKinds].map(([kind, count]) => ({ kind, count })).sort((x, y) => y.count - x.count),
    interrupted,
    ok: p.errors === 0 && summaryMatches && !interrupted,
  };
}

interface Verdict {
  http: number;
  status: string;
  reason: string | null;
}

function expectVerdict(step: string, res: AgentResponse, want: Verdict): void {
  const body = res.body as { status?: unknown; reason?: unknown };
  if (res.status === want.http && body?.status === want.status && (body.reason ?? null) === want.reason) return;
  throw unexpected(step, res, `${want.http} ${want.status}${want.reason ? ` ${want.reason}` : ''}`);
}

/** unexpected names an answer the agent's part did not expect: by the core's error code, or by the verdict it got. */
function unexpected(step: string, res: AgentResponse, wanted: string): SimulationError {
  const body = res.body as { error?: { code?: unknown; message?: unknown }; status?: unknown; reason?: unknown } | string | null;
  if (body && typeof body === 'object' && body.error && typeof body.error.code === 'string') {
    return new SimulationError(`${step}: HTTP ${res.status} ${body.error.code}`, `${step}: ${String(body.error.message ?? '')}`);
  }
  if (body && typeof body === 'object' && typeof body.status === 'string') {
    const got = `${res.status} ${body.status}${typeof body.reason === 'string' ? ` ${body.reason}` : ''}`;
    return new SimulationError(`${step}: got ${got}, expected ${wanted}`, `${step}: the core answered ${got}; this agent's part expects ${wanted}`);
  }
  return new SimulationError(`${step}: HTTP ${res.status}`, `${step}: unexpected HTTP ${res.status} answer`);
}

// A 9.x agent presents no certificate, so every one of them may share one (unused) key.
let oldKey: { privateKey: KeyObject; publicKey: KeyObject } | null = null;
function sharedOldKey() {
  return (oldKey ??= generateAgentKeyPair('EC-P256'));
}

/** createSleeper gives a sleep that an abort ends early, with one abort listener for all sleepers. */
export function createSleeper(signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  const wakers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of wakers) wake();
  };
  signal?.addEventListener('abort', wakeAll, { once: true });
  return (ms) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
}

interface Approver {
  /** approve resolves once the request is approved, or rejects with why it was not. */
  approve(requestId: string): Promise<void>;
  stats(): { calls: number; largest: number };
  close(): void;
}

/**
 * createApprover is the admin script: it gathers request ids and approves them with one approveClients
 * call per batch, one call at a time; a batch goes out when full or when its first id has waited waitMs.
 */
function createApprover(api: AdminApi, batchSize: number, waitMs: number): Approver {
  const queue: { id: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let calls = 0;
  let largest = 0;

  const kick = () => {
    if (running || queue.length === 0) return;
    if (queue.length >= batchSize) {
      void flush();
    } else if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        void flush();
      }, waitMs);
    }
  };

  async function flush(): Promise<void> {
    if (running || queue.length === 0) return;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    running = true;
    const batch = queue.splice(0, batchSize);
    calls++;
    largest = Math.max(largest, batch.length);
    try {
      const { approved, failed } = await api.approveClients(batch.map((b) => b.id));
      const ok = new Set(approved);
      const why = new Map(failed.map((f) => [f.id, f]));
      for (const b of batch) {
        if (ok.has(b.id)) {
          b.resolve();
        } else {
          const f = why.get(b.id);
          b.reject(new SimulationError(`approve: ${f?.code ?? 'missing'}`, f ? `request ${b.id}: ${f.message}` : `request ${b.id} is neither approved nor failed in the answer`));
        }
      }
    } catch (err) {
      for (const b of batch) b.reject(err as Error);
    } finally {
      running = false;
      kick();
    }
  }

  return {
    approve(id) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ id, resolve, reject });
        kick();
      });
    },
    stats: () => ({ calls, largest }),
    close() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
