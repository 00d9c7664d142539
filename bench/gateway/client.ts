// The gateway benchmark's load child, forked by runner.ts: it holds the devices' keys (they never
// leave this process), makes their CSRs, checks each device once with the real agent client, then
// sends the agent's connect request from C workers per run and reports counts, latency and CPU.
import type { IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent, RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { ConnectionOptions, SecureContext, TLSSocket } from 'node:tls';
import { isMain } from '../../src/cli/is-main.js';
import { openLoop } from '../sustained/open-loop.js';
import { AGENT_VERSION, CONNECT_PATH, MAX_ERRORS, REQUEST_TIMEOUT_MS, type FromClient, type Mode, type OpenLoopReply, type OpenLoopRequest, type RunReport, type Target, type ToClient } from './protocol.js';

interface Device {
  agentId: string;
  body: Buffer;
  /** Names the device's identity for https.Agent (its pool and session cache are keyed by it). */
  certificatePem: string;
  secureContext: SecureContext;
}
/** runClient serves the runner over IPC until it says exit or disconnects. */
export async function runClient(): Promise<void> {
  const https = await import('node:https');
  const tls = await import('node:tls');
  const { createAgentClient, generateAgentKeyPair } = await import('../../src/agent-client/agent-client.js');
  const send = (m: FromClient) => process.send!(m);
  const keys = new Map<string, ReturnType<typeof generateAgentKeyPair>>();
  let devices: Device[] = [];
  let caCertificatePem = '';
  // One https.Agent per server and mode, kept across runs: the resumed mode's session cache stays warm.
  const agents = new Map<string, HttpsAgent>();

  function agentFor(target: Target, mode: Mode): HttpsAgent {
    const name = `${target}/${mode}`;
    let a = agents.get(name);
    if (!a) {
      const cache = devices.length * 2 + 16;
      a =
        mode === 'handshake'
          ? new https.Agent({ keepAlive: false, maxCachedSessions: 0 })
          : mode === 'resumed'
            ? new https.Agent({ keepAlive: false, maxCachedSessions: cache })
            : new https.Agent({ keepAlive: true, maxCachedSessions: cache, keepAliveMsecs: 30_000 });
      agents.set(name, a);
    }
    return a;
  }

  /** connectOnce is the agent's connect request (as src/agent-client sends it) for one device. */
  function connectOnce(agent: HttpsAgent, port: number, d: Device, timeoutMs = REQUEST_TIMEOUT_MS, onRequest?: (req: ReturnType<typeof https.request>) => void) {
    return new Promise<{ status: number; body: string; socket: TLSSocket; reused: boolean }>((ok, fail) => {
      const req = https.request({
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: CONNECT_PATH,
        headers: { 'content-type': 'application/json', 'content-length': String(d.body.length) },
        ca: caCertificatePem,
        // The context below carries ca, cert and key; cert is given too only so that https.Agent keys
        // its pool and session cache by device (it ignores secureContext when naming connections).
        cert: d.certificatePem,
        secureContext: d.secureContext,
        minVersion: 'TLSv1.2',
      } as RequestOptions & ConnectionOptions);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      onRequest?.(req);
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const socket = res.socket as TLSSocket;
        const reused = socket.isSessionReused();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), socket, reused }));
      });
      req.end(d.body);
    });
  }

  async function run(m: Extract<ToClient, { op: 'run' }>): Promise<RunReport> {
    const agent = agentFor(m.target, m.mode);
    const latencies: number[] = [];
    const sockets = new WeakSet<Socket>();
    const protocols: Record<string, number> = {};
    let ok = 0;
    let errors = 0;
    let reused = 0;
    let connections = 0;
    let next = 0;
    const errorSamples: string[] = [];
    const noteError = (what: string) => {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(what.slice(0, 300));
    };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const deadline = t0 + m.durationMs;
    await Promise.all(
      Array.from({ length: m.concurrency }, async () => {
        while ((performance.now() < deadline || next < m.minRequests) && errors < MAX_ERRORS) {
          const d = devices[next++ % devices.length]!;
          const t = performance.now();
          try {
            const r = await connectOnce(agent, m.port, d);
            let status: unknown;
            try {
              status = (JSON.parse(r.body) as { status?: unknown }).status;
            } catch {
              status = undefined;
            }
            if (r.status !== 200 || status !== 'AUTHENTICATION_SUCCEEDED') {
              noteError(`HTTP ${r.status}: ${r.body}`);
              continue;
            }
            latencies.push(performance.now() - t);
            ok++;
            if (r.reused) reused++;
            if (!sockets.has(r.socket)) {
              sockets.add(r.socket);
              connections++;
              const p = r.socket.getProtocol() ?? 'unknown';
              protocols[p] = (protocols[p] ?? 0) + 1;
            }
          } catch (err) {
            noteError(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`);
          }
        }
      }),
    );
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (m.mode === 'keepalive') agent.destroy(); // ends the kept-alive sockets; the session cache stays
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] ?? NaN;
    return {
      op: 'ran',
      id: m.id,
      ok,
      errors,
      errorSamples,
      elapsedMs,
      reused,
      connections,
      tlsProtocols: protocols,
      latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: latencies[latencies.length - 1] ?? NaN },
      clientCpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  /**
   * sustain is one step of the sustained benchmark: the agent's connect request on resumed TLS
   * sessions (the same https.Agent as the gateway benchmark's resumed mode, so the warm-up's sessions
   * are reused), started on a fixed schedule (open loop), for this process's devices in turn.
   */
  async function sustain(m: OpenLoopRequest): Promise<OpenLoopReply> {
    const agent = agentFor(m.target, 'resumed');
    const { setTimeout: sleep, setImmediate: yieldNow } = await import('node:timers/promises');
    const cpu0 = process.cpuUsage();
    // The runner names a common start a little ahead; a message that arrives after it (a busy
    // machine) moves this process's start, rather than firing the missed part of the schedule at once.
    let t0 = m.startAt - performance.timeOrigin;
    const startShiftMs = Math.max(0, performance.now() + 5 - t0);
    t0 += startShiftMs;
    const report = await openLoop(
      { rate: m.rate, durationMs: m.durationMs, t0, offset: m.offset, stride: m.stride, allowanceMs: m.allowanceMs, maxInFlight: m.maxInFlight, maxSlow: m.maxSlow },
      (seq) => {
        const d = devices[Math.floor(seq / m.stride) % devices.length]!;
        let req: ReturnType<typeof https.request> | undefined;
        let cancelled = false;
        const done = connectOnce(agent, m.port, d, m.timeoutMs, (r) => (req = r)).then((r) => {
          let status: unknown;
          try {
            status = (JSON.parse(r.body) as { status?: unknown }).status;
          } catch {
            status = undefined;
          }
          return r.status === 200 && status === 'AUTHENTICATION_SUCCEEDED' ? { ok: true, reused: r.reused } : { ok: false, error: `HTTP ${r.status}: ${r.body}` };
        });
        return {
          done,
          cancel: () => {
            // Without an error, so that the agent keeps the device's TLS session (it evicts it when a socket closes with one).
            if (!cancelled) req?.destroy();
            cancelled = true;
          },
        };
      },
      { now: () => performance.now(), sleep: (ms) => sleep(ms), yieldNow: () => yieldNow() },
    );
    const cpu = process.cpuUsage(cpu0);
    return { op: 'openLooped', id: m.id, clientCpuMs: (cpu.user + cpu.system) / 1000, startShiftMs, ...report };
  }

  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const m = raw as ToClient;
    void (async () => {
      try {
        if (m.op === 'keys') {
          const csrs: { agentId: string; csrPem: string }[] = [];
          for (const agentId of m.agentIds) {
            const keyPair = generateAgentKeyPair('EC-P256');
            keys.set(agentId, keyPair);
            // The agent client's own CSR (its gateway URL is not contacted for this).
            const client = createAgentClient({ gatewayUrl: 'https://127.0.0.1:1', caCertificatePem: '', agentId, keyPair });
            csrs.push({ agentId, csrPem: await client.csrPem() });
            client.close();
          }
          send({ op: 'csrs', csrs });
        } else if (m.op === 'certs') {
          caCertificatePem = m.caCertificatePem;
          devices = m.certs.map(({ agentId, certificatePem }) => {
            const pair = keys.get(agentId);
            if (!pair) throw new Error(`no key for ${agentId}`);
            const key = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
            return {
              agentId,
              body: Buffer.from(JSON.stringify({ agentId, agentVersion: AGENT_VERSION })),
              certificatePem,
              secureContext: tls.createSecureContext({ ca: caCertificatePem, cert: certificatePem, key, minVersion: 'TLSv1.2' }),
            };
          });
          send({ op: 'certsLoaded', n: devices.length });
        } else if (m.op === 'verify') {
          // Once per device with the real agent client, before anything is timed.
          const statuses: Record<string, number> = {};
          const queue = [...devices];
          await Promise.all(
            Array.from({ length: 8 }, async () => {
              for (let d = queue.shift(); d; d = queue.shift()) {
                const client = createAgentClient({
                  gatewayUrl: m.gatewayUrl,
                  caCertificatePem,
                  agentId: d.agentId,
                  agentVersion: AGENT_VERSION,
                  keyPair: keys.get(d.agentId)!,
                  certificatePem: d.certificatePem,
                });
                try {
                  const r = await client.connect();
                  const s = `${r.status} ${(r.body as { status?: string } | null)?.status ?? JSON.stringify(r.body).slice(0, 100)}`;
                  statuses[s] = (statuses[s] ?? 0) + 1;
                } finally {
                  client.close();
                }
              }
            }),
          );
          send({ op: 'verified', n: devices.length, statuses });
        } else if (m.op === 'run') {
          send(await run(m));
        } else if (m.op === 'openLoop') {
          send(await sustain(m));
        } else if (m.op === 'exit') {
          for (const a of agents.values()) a.destroy();
          process.exit(0);
        }
      } catch (err) {
        send({ op: 'error', message: (err as Error).message });
      }
    })();
  });
  send({ op: 'ready' });
}

if (isMain(import.meta.url)) {
  runClient().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
