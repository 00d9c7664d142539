// One simulated agent's script: enroll, wait for approval, poll, connect and report scans with the
// verdict its part expects, get revoked; then reconnect every interval. The run (simulation.ts)
// admits agents and sums up; this file is what each of them does, counted in RunStatistics.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { createAgentClient, generateAgentKeyPair, type AgentClient, type AgentResponse } from '../agent-client/agent-client.js';
import type { Approver } from './approver.js';
import { SimulationError, toSimulationError } from './errors.js';
import type { AgentRole } from './mix.js';
import type { Slots } from './slots.js';
import type { AgentOutcome, RunStatistics } from './statistics.js';

/** The version a current agent reports, and the one a 9.x agent does. */
export const CURRENT_AGENT_VERSION = '2024.1';
export const OLD_AGENT_VERSION = '9.60';

// Agents of a later step go first (see Slots): a repeat round or the connection after a revocation, then a first poll and connection, then a new enrollment.
const PRI_ROUND = 0;
const PRI_CONNECT = 1;
const PRI_ENROLL = 2;
/** AGENT_PRIORITIES is how many priorities the agents' Slots need. */
export const AGENT_PRIORITIES = 3;

/** Cancelled ends an agent's run when the simulation is aborted. */
class Cancelled extends Error {}

/** SimAgent is one agent's state across its rounds. */
export interface SimAgent {
  agentId: string;
  deviceName: string;
  role: AgentRole;
  keyPair: { privateKey: KeyObject; publicKey: KeyObject } | null;
  requestId: string | null;
  certificatePem: string | null;
  /** refused: it has been refused as its part says at least once (counted once in failedAsExpected). */
  refused: boolean;
}

/** newAgent is an agent that has done nothing yet; its device name is its id in capitals. */
export function newAgent(agentId: string, role: AgentRole): SimAgent {
  return { agentId, deviceName: agentId.toUpperCase(), role, keyPair: null, requestId: null, certificatePem: null, refused: false };
}

/** AgentScriptSettings is what every agent of a run shares. */
export interface AgentScriptSettings {
  agentUrl: string;
  caCertificatePem: string;
  requestTimeoutMs: number;
  /** Further tries of a gateway request that failed on the network. */
  retries: number;
  /** Connections per agent, or null to go on until the deadline. */
  rounds: number | null;
  intervalMs: number;
  /** Date.now() after which no further round starts, or null. */
  deadline: number | null;
  signal: AbortSignal | undefined;
  /** Bounds the agents talking to the gateway at once (AGENT_PRIORITIES priorities). */
  slots: Slots;
  approver: Approver;
  /** revoke withdraws the certificate of a request, as the admin does. */
  revoke: (requestId: string) => Promise<unknown>;
  sleep: (ms: number) => Promise<void>;
  stats: RunStatistics;
}

interface Verdict {
  http: number;
  status: string;
  reason: string | null;
}

const VERDICT = {
  healthy: { http: 200, status: 'AUTHENTICATION_SUCCEEDED', reason: null },
  old: { http: 426, status: 'CLIENT_AGENTS_MUST_UPGRADE', reason: null },
  neverApproved: { http: 403, status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_NOT_APPROVED' },
  revoked: { http: 403, status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REVOKED' },
} as const satisfies Record<string, Verdict>;

/** AgentScript plays agents over the real protocol; play is one agent's whole run. */
export class AgentScript {
  constructor(private readonly s: AgentScriptSettings) {}

  /** play is one agent's whole run; firstRoundDone lets the next agent in. */
  async play(a: SimAgent, firstRoundDone: (cancelled: boolean) => void): Promise<void> {
    const { stats } = this.s;
    let outcome: AgentOutcome;
    try {
      outcome = await this.firstRound(a);
    } catch (err) {
      outcome = err instanceof Cancelled ? 'cancelled' : 'error';
      if (!(err instanceof Cancelled)) stats.recordError(err, 'agent');
    }
    firstRoundDone(outcome === 'cancelled');
    if (outcome !== 'error' && outcome !== 'cancelled' && outcome !== 'neverConnected') {
      try {
        await this.laterRounds(a);
      } catch (err) {
        if (!(err instanceof Cancelled)) {
          stats.recordError(err, 'reconnect');
          outcome = 'error';
        }
      }
    }
    stats.outcomes[outcome]++;
  }

  /** firstRound takes an agent from nothing to its part's first verdict; it returns the outcome so far. */
  private async firstRound(a: SimAgent): Promise<AgentOutcome> {
    const counts = this.s.stats.counts;
    if (a.role === 'old') {
      await this.act(a, PRI_CONNECT, OLD_AGENT_VERSION, (c) => this.connectAndScan(a, c, VERDICT.old));
      this.firstFailure(a);
      return 'mustUpgrade';
    }
    // act makes the agent's key (EC P-256, node:crypto) once it holds its slot, so at most `concurrency` are made at once.
    await this.act(a, PRI_ENROLL, CURRENT_AGENT_VERSION, async (c) => {
      const res = await this.send('enroll', () => c.enroll());
      const body = res.body as { requestId?: string; status?: string };
      if (res.status !== 202 || typeof body.requestId !== 'string' || body.status !== 'PENDING') throw unexpected('enroll', res, '202 PENDING');
      a.requestId = body.requestId;
      counts.enrolled++;
    });
    if (a.role === 'neverApproved') {
      await this.act(a, PRI_CONNECT, CURRENT_AGENT_VERSION, async (c) => {
        await this.poll(a, c, 'PENDING');
        await this.connectAndScan(a, c, VERDICT.neverApproved);
      });
      this.firstFailure(a);
      return 'notApproved';
    }
    await this.s.approver.approve(a.requestId!);
    counts.approved++;
    this.checkCancel();
    await this.act(a, PRI_CONNECT, CURRENT_AGENT_VERSION, async (c) => {
      await this.poll(a, c, 'APPROVED');
      if (a.role !== 'neverConnect') await this.connectAndScan(a, c, VERDICT.healthy);
    });
    if (a.role === 'neverConnect') return 'neverConnected';
    counts.connected++;
    if (a.role === 'healthy') return 'succeeded';
    // revoked: the admin withdraws the certificate, and the agent's next connection is refused.
    this.checkCancel();
    await this.s.revoke(a.requestId!);
    counts.revoked++;
    await this.act(a, PRI_ROUND, CURRENT_AGENT_VERSION, (c) => this.connectAndScan(a, c, VERDICT.revoked));
    this.firstFailure(a);
    return 'revoked';
  }

  /** laterRounds reconnects every interval while rounds or the duration allow. */
  private async laterRounds(a: SimAgent): Promise<void> {
    const { rounds, intervalMs, deadline } = this.s;
    for (let round = 2; rounds === null || round <= rounds; round++) {
      const wait = Math.round(intervalMs * (0.9 + 0.2 * Math.random()));
      if (deadline !== null && Date.now() + wait > deadline) return;
      await this.s.sleep(wait);
      this.checkCancel();
      if (a.role === 'old') {
        await this.act(a, PRI_ROUND, OLD_AGENT_VERSION, (c) => this.connectAndScan(a, c, VERDICT.old));
      } else if (a.role === 'neverApproved') {
        await this.act(a, PRI_ROUND, CURRENT_AGENT_VERSION, async (c) => {
          await this.poll(a, c, 'PENDING');
          await this.connectAndScan(a, c, VERDICT.neverApproved);
        });
      } else {
        await this.act(a, PRI_ROUND, CURRENT_AGENT_VERSION, (c) => this.connectAndScan(a, c, a.role === 'revoked' ? VERDICT.revoked : VERDICT.healthy));
      }
    }
  }

  private checkCancel(): void {
    if (this.s.signal?.aborted) throw new Cancelled();
  }

  private firstFailure(a: SimAgent): void {
    if (!a.refused) {
      a.refused = true;
      this.s.stats.counts.failedAsExpected++;
    }
  }

  /** act holds a slot while one agent talks to the gateway, with a client that lives only as long. */
  private async act<T>(a: SimAgent, priority: number, version: string, fn: (client: AgentClient) => Promise<T>): Promise<T> {
    this.checkCancel();
    return this.s.slots.run(priority, async () => {
      this.checkCancel();
      if (a.keyPair === null && a.role !== 'old') a.keyPair = generateAgentKeyPair('EC-P256');
      const client = createAgentClient({
        gatewayUrl: this.s.agentUrl,
        caCertificatePem: this.s.caCertificatePem,
        agentId: a.agentId,
        deviceName: a.deviceName,
        agentVersion: version,
        keyPair: a.keyPair ?? sharedOldKey(),
        certificatePem: a.certificatePem ?? undefined,
        timeoutMs: this.s.requestTimeoutMs,
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
  private async send(step: string, request: () => Promise<AgentResponse>): Promise<AgentResponse> {
    const { signal, stats, sleep } = this.s;
    let waits = 0;
    for (let attempt = 0; ; attempt++) {
      stats.counts.gatewayRequests++;
      try {
        const res = await request();
        const retryAfter = Number(res.headers['retry-after']);
        if ((res.status === 429 || res.status === 503) && retryAfter > 0 && retryAfter <= 60 && waits < 100 && !signal?.aborted) {
          waits++;
          stats.recordRetry(`HTTP ${res.status}`);
          await sleep(retryAfter * 1000 * (0.5 + Math.random()));
          attempt--;
          continue;
        }
        return res;
      } catch (err) {
        const e = toSimulationError(step, err);
        if (!e.retriable || attempt >= this.s.retries || signal?.aborted) throw e;
        stats.recordRetry(e.kind);
        await sleep(250 * (attempt + 1));
      }
    }
  }

  /** connectAndScan reports the agent's connection and a vulscan run over the same TLS connection, both with the expected verdict. */
  private async connectAndScan(a: SimAgent, client: AgentClient, want: Verdict): Promise<void> {
    const cert = a.role === 'old' ? 'none' : undefined;
    this.s.stats.connectionsByRole[a.role] += 2;
    expectVerdict('connect', await this.send('connect', () => client.connect({ cert })), want);
    expectVerdict('scan-results', await this.send('scan-results', () => client.scanResults({ cert })), want);
  }

  private async poll(a: SimAgent, client: AgentClient, want: 'PENDING' | 'APPROVED'): Promise<void> {
    const res = await this.send('poll', () => client.poll(a.requestId!));
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
