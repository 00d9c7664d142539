// The fault run's agents: enrolled and approved through the simulator's admin script, then each
// reconnecting in a loop and recording what every single request got.
import type { KeyObject } from 'node:crypto';
import { createAgentClient, generateAgentKeyPair, type AgentClient, type AgentResponse, type CertificateChoice } from '../agent-client/agent-client.js';
import type { AdminApi } from '../simulator/admin-api.js';
import { CURRENT_AGENT_VERSION, OLD_AGENT_VERSION } from '../simulator/agent-script.js';
import { createSleeper } from '../simulator/sleeper.js';
import { Slots } from '../simulator/slots.js';

/**
 * FleetRole is the part an agent plays, chosen so that all four answers with a result body occur
 * and the counters keep moving under load:
 * healthy: issued certificate → 200; flapping: issued certificate, reporting a current and a 9.x
 * version on alternate rounds → 200 / 426, so its device moves between two chart items every round;
 * pending: never approved, presents its self-signed certificate → 403; noCert: a current agent
 * known only from the inventory import (no key on file, so its result is recorded: see "Proof before
 * status" in the README), connecting without a certificate → 401; old: a 9.x agent known from the
 * inventory import → 426. (An enrolled agent connecting without its certificate proves nothing: its
 * attempt is kept as unverified and never moves its device, so it is not a result to count here.)
 */
export type FleetRole = 'healthy' | 'flapping' | 'pending' | 'noCert' | 'old';

// 20 agents: 11 healthy, 4 flapping, 2 pending, 2 old, 1 without certificate; interleaved so a small fleet has every part.
const ROLE_PATTERN: FleetRole[] = [
  'healthy', 'flapping', 'pending', 'old', 'healthy', 'noCert', 'healthy', 'flapping', 'healthy', 'healthy',
  'old', 'healthy', 'flapping', 'pending', 'healthy', 'healthy', 'flapping', 'healthy', 'healthy', 'healthy',
];

export type Source = 'SECURE_CONNECTION' | 'SECURITY_SCANNER';
export const SOURCES: Source[] = ['SECURE_CONNECTION', 'SECURITY_SCANNER'];

export interface FleetAgent {
  index: number;
  agentId: string;
  deviceName: string;
  role: FleetRole;
  keyPair: { privateKey: KeyObject; publicKey: KeyObject };
  certificatePem: string | null;
  /** The replica this agent talks to first (agents are spread over the replicas). */
  home: number;
}

/** Verdict is what an answer with a result body says. */
export interface Verdict {
  http: number;
  status: string;
  reason: string | null;
}

/** expectedVerdict is what an agent of this part must be told in the given round (0-based). */
export function expectedVerdict(role: FleetRole, round: number): Verdict {
  switch (role) {
    case 'healthy':
      return { http: 200, status: 'AUTHENTICATION_SUCCEEDED', reason: null };
    case 'flapping':
      return round % 2 === 0
        ? { http: 200, status: 'AUTHENTICATION_SUCCEEDED', reason: null }
        : { http: 426, status: 'CLIENT_AGENTS_MUST_UPGRADE', reason: null };
    case 'pending':
      return { http: 403, status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_NOT_APPROVED' };
    case 'noCert':
      return { http: 401, status: 'AUTHENTICATION_FAILED', reason: 'NO_CLIENT_CERTIFICATE' };
    case 'old':
      return { http: 426, status: 'CLIENT_AGENTS_MUST_UPGRADE', reason: null };
  }
}

function versionFor(role: FleetRole, round: number): string {
  if (role === 'old' || (role === 'flapping' && round % 2 === 1)) return OLD_AGENT_VERSION;
  return CURRENT_AGENT_VERSION;
}

function certFor(role: FleetRole): CertificateChoice {
  if (role === 'healthy' || role === 'flapping') return 'issued';
  if (role === 'pending') return 'self-signed';
  return 'none';
}

/** agentClientOf is the real agent client of one fleet agent, talking to one gateway. */
function agentClientOf(a: FleetAgent, gatewayUrl: string, caCertificatePem: string, timeoutMs: number) {
  return createAgentClient({
    gatewayUrl,
    caCertificatePem,
    agentId: a.agentId,
    deviceName: a.deviceName,
    agentVersion: CURRENT_AGENT_VERSION,
    keyPair: a.keyPair,
    certificatePem: a.certificatePem ?? undefined,
    timeoutMs,
  });
}

/**
 * prepareFleet makes the agents on a healthy core, before any fault: 9.x devices imported with
 * registerDevices, the others enrolled through the gateway, approved in batches
 * with approveClients (all but the pending ones) and given their certificates by polling.
 */
export async function prepareFleet(opts: {
  agents: number;
  prefix: string;
  api: AdminApi;
  /** Where the agents enroll and fetch their certificates. */
  gatewayUrl: string;
  /** How many replicas the agents are spread over afterwards (their home). */
  replicas: number;
  caCertificatePem: string;
  concurrency?: number;
  timeoutMs?: number;
}): Promise<FleetAgent[]> {
  const width = String(opts.agents).length;
  const fleet: FleetAgent[] = Array.from({ length: opts.agents }, (_, i) => {
    const agentId = `${opts.prefix}-${String(i + 1).padStart(width, '0')}`;
    return {
      index: i,
      agentId,
      deviceName: agentId.toUpperCase(),
      role: ROLE_PATTERN[i % ROLE_PATTERN.length]!,
      keyPair: generateAgentKeyPair('EC-P256'),
      certificatePem: null,
      home: i % opts.replicas,
    };
  });
  const clientOf = (a: FleetAgent) => agentClientOf(a, opts.gatewayUrl, opts.caCertificatePem, opts.timeoutMs ?? 30_000);
  const expect = (step: string, a: FleetAgent, res: AgentResponse, ok: boolean) => {
    if (!ok) throw new Error(`setting up the fleet: ${step} of ${a.agentId} answered HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
  };

  const imported = fleet.filter((a) => a.role === 'old' || a.role === 'noCert');
  for (let i = 0; i < imported.length; i += 1000) {
    await opts.api.registerDevices(
      imported
        .slice(i, i + 1000)
        .map((a) => ({ name: a.deviceName, agentId: a.agentId, agentVersion: a.role === 'old' ? OLD_AGENT_VERSION : CURRENT_AGENT_VERSION })),
    );
  }

  const slots = new Slots(opts.concurrency ?? 16, 1);
  const enrolling = fleet.filter((a) => a.role !== 'old' && a.role !== 'noCert');
  const requestIds = new Map<FleetAgent, string>();
  await Promise.all(
    enrolling.map((a) =>
      slots.run(0, async () => {
        const c = clientOf(a);
        try {
          const res = await c.enroll();
          const body = res.body as { requestId?: unknown };
          expect('enroll', a, res, res.status === 202 && typeof body.requestId === 'string');
          requestIds.set(a, body.requestId as string);
        } finally {
          c.close();
        }
      }),
    ),
  );

  const approving = enrolling.filter((a) => a.role !== 'pending');
  for (let i = 0; i < approving.length; i += 500) {
    const batch = approving.slice(i, i + 500);
    const { failed } = await opts.api.approveClients(batch.map((a) => requestIds.get(a)!));
    if (failed.length > 0) throw new Error(`setting up the fleet: approveClients refused ${failed.length} requests (${failed[0]!.code}: ${failed[0]!.message})`);
  }

  await Promise.all(
    fleet
      .filter((a) => a.role === 'healthy' || a.role === 'flapping')
      .map((a) =>
        slots.run(0, async () => {
          const c = clientOf(a);
          try {
            const res = await c.poll(requestIds.get(a)!);
            const body = res.body as { status?: unknown; certificatePem?: unknown };
            expect('poll', a, res, res.status === 200 && body.status === 'APPROVED' && typeof body.certificatePem === 'string');
            a.certificatePem = body.certificatePem as string;
          } finally {
            c.close();
          }
        }),
      ),
  );
  return fleet;
}

/**
 * Attempt is one request an agent made and what it got. outcome 'ack' means an HTTP answer with a
 * result body (200/401/403/426 and {status, reason}): the core says the result is recorded.
 * Anything else (an HTTP 503 or 500, a refused or reset connection, a timeout) is an error kind,
 * after which the agent tries the same report again.
 */
export interface Attempt {
  agent: number;
  source: Source;
  round: number;
  replica: number;
  /** Date.now() before the request was sent and once its answer (or failure) was complete. */
  sentAt: number;
  answeredAt: number;
  outcome: 'ack' | string;
  httpStatus: number | null;
  result: string | null;
  reason: string | null;
  /** For an ack: whether the verdict is the one this agent's part must get. */
  expected: boolean | null;
  /** For an HTTP 503: whether it carried Retry-After. */
  retryAfter: boolean | null;
}

/** LoadOptions drive the agents' reconnect loop. */
export interface LoadOptions {
  fleet: FleetAgent[];
  gatewayUrls: string[];
  caCertificatePem: string;
  /** Pause between an agent's rounds (connect + scan-results), ±20 %. */
  intervalMs: number;
  requestTimeoutMs: number;
  /** After a refused or reset connection or a timeout, try the next replica (when there are several). */
  failover: boolean;
}

/** Load is the running agent loops. */
export interface Load {
  attempts: Attempt[];
  /** stop lets every agent finish the request it is making, then ends its loop. */
  stop(): Promise<void>;
  counts(): { acks: number; errors: number };
}

/** startLoad starts one reconnect loop per agent; each report is tried again until acknowledged or the load stops. */
export function startLoad(opts: LoadOptions): Load {
  const attempts: Attempt[] = [];
  const stopped = new AbortController();
  let acks = 0;
  let errors = 0;
  // Sleeps end at once when the load stops.
  const sleep = createSleeper(stopped.signal);

  async function runAgent(a: FleetAgent): Promise<void> {
    const clients: (AgentClient | null)[] = opts.gatewayUrls.map(() => null);
    const clientFor = (replica: number) =>
      (clients[replica] ??= agentClientOf(a, opts.gatewayUrls[replica]!, opts.caCertificatePem, opts.requestTimeoutMs));
    let replica = a.home;
    const cert = certFor(a.role);

    async function untilAcknowledged(source: Source, round: number): Promise<boolean> {
      const version = versionFor(a.role, round);
      for (let failures = 0; !stopped.signal.aborted; failures++) {
        const client = clientFor(replica);
        const sentAt = Date.now();
        const attempt: Attempt = {
          agent: a.index,
          source,
          round,
          replica,
          sentAt,
          answeredAt: sentAt,
          outcome: '',
          httpStatus: null,
          result: null,
          reason: null,
          expected: null,
          retryAfter: null,
        };
        let waitMs: number;
        let network = false;
        try {
          const res =
            source === 'SECURE_CONNECTION' ? await client.connect({ cert, agentVersion: version }) : await client.scanResults({ cert, agentVersion: version });
          attempt.httpStatus = res.status;
          const body = res.body as { status?: unknown; reason?: unknown; error?: { code?: unknown } } | null;
          if ([200, 401, 403, 426].includes(res.status) && body && typeof body === 'object' && typeof body.status === 'string') {
            attempt.outcome = 'ack';
            attempt.result = body.status;
            attempt.reason = typeof body.reason === 'string' ? body.reason : null;
            const want = expectedVerdict(a.role, round);
            attempt.expected = res.status === want.http && body.status === want.status && attempt.reason === want.reason;
          } else {
            const code = body && typeof body === 'object' && typeof body.error?.code === 'string' ? ` ${body.error.code}` : '';
            attempt.outcome = res.status === 503 || res.status === 500 ? `HTTP ${res.status}` : `HTTP ${res.status}${code}`;
          }
          const retryAfter = res.headers['retry-after'];
          if (res.status === 503) attempt.retryAfter = retryAfter !== undefined;
          waitMs = res.status === 503 ? retryAfterMs(retryAfter) : backoffMs(failures);
        } catch (err) {
          attempt.outcome = networkErrorKind(err);
          network = true;
          waitMs = backoffMs(failures);
        }
        attempt.answeredAt = Date.now();
        attempts.push(attempt);
        if (attempt.outcome === 'ack') {
          acks++;
          return true;
        }
        errors++;
        if (network && opts.failover && opts.gatewayUrls.length > 1) replica = (replica + 1) % opts.gatewayUrls.length;
        await sleep(waitMs);
      }
      return false;
    }

    try {
      // Agents start spread over one interval, as a fleet's do.
      await sleep(Math.random() * opts.intervalMs);
      for (let round = 0; !stopped.signal.aborted; round++) {
        for (const source of SOURCES) {
          if (!(await untilAcknowledged(source, round))) return;
        }
        await sleep(opts.intervalMs * (0.8 + 0.4 * Math.random()));
      }
    } finally {
      for (const c of clients) c?.close();
    }
  }

  const loops = opts.fleet.map((a) => runAgent(a));
  return {
    attempts,
    counts: () => ({ acks, errors }),
    async stop() {
      stopped.abort();
      await Promise.all(loops);
    },
  };
}

/** networkErrorKind names a request that got no HTTP answer. */
export function networkErrorKind(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || code === 'UND_ERR_SOCKET') return 'connection reset';
  const message = e instanceof Error ? e.message : String(err);
  if (/did not answer .* within/.test(message) || code === 'ETIMEDOUT') return 'timeout';
  return `network error ${code ?? (e instanceof Error ? e.name : 'unknown')}`;
}

// 100 ms, 200, 400, ... up to 2 s, with jitter so that retrying agents do not return in step.
function backoffMs(failures: number): number {
  return Math.min(2000, 100 * 2 ** failures) * (0.75 + 0.5 * Math.random());
}

/** retryAfterMs honours a 503's Retry-After (seconds or an HTTP date), within 100 ms and 5 s; 1 s without one. */
export function retryAfterMs(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  let ms = 1000;
  if (value !== undefined && /^\s*\d+\s*$/.test(value)) ms = Number(value) * 1000;
  else if (value !== undefined && !Number.isNaN(Date.parse(value))) ms = Date.parse(value) - Date.now();
  return Math.min(5000, Math.max(100, ms)) * (0.9 + 0.2 * Math.random());
}
