/**
 * Agent gateway benchmark: connection results recorded per second through the mTLS agent gateway of
 * a real in-process core, against a bare Node `https` server with client-certificate auth that
 * records nothing, in the same run.
 *
 * Setup (not timed): a core is started in this process (temp DATA_DIR, PORT=0, AGENT_PORT=0, the
 * embedded database, or PostgreSQL when DATABASE_URL is set). M devices are enrolled through
 * `services.clientAccess.enroll` with EC P-256 keys and CSRs made in the client process by the agent
 * client's own `csrPem()` (the keys never leave that process), approved with
 * `services.clientAccess.approveMany`, and handed their certificates from `getEnrollment`. Each
 * device then makes one `connect()` with the real agent client (`createAgentClient`), which must be
 * answered 200 AUTHENTICATION_SUCCEEDED. The bare server gets a server certificate from the same core
 * CA (EC P-256, issued by the core's own signer) and trusts the same CA, so both servers see the same
 * client certificates.
 *
 * Load: C workers in a CHILD process (this file, started with --gateway-client), so this process's CPU
 * is the servers' alone (the two processes still share the machine's CPUs). Each worker repeatedly
 * sends the agent's connect request, `POST /agent/v1/connect` with `{"agentId","agentVersion"}` and
 * the device's certificate, for the next device in turn, until the round's time is up. A request
 * counts when it is answered 200 with status AUTHENTICATION_SUCCEEDED; the gateway answers only after
 * the result has committed. After every certfleet round the rise of max(connection_results.id) must
 * cover every such answer. Modes:
 *   - handshake: a new TCP connection and a full TLS handshake per request (https.Agent keepAlive
 *     false, maxCachedSessions 0);
 *   - resumed:   a new TCP connection per request that resumes a cached TLS session (https.Agent
 *     keepAlive false, a session cache holding every device's session);
 *   - keepalive: requests on kept-alive connections (https.Agent keepAlive true; the sockets are
 *     closed at the end of each round, so each round opens its connections again, resumed).
 * Every response's socket is asked `isSessionReused()`, and the share is reported per mode.
 *
 * Rounds: for each round and mode, one certfleet run and one bare run of --duration each; the order
 * flips every round (certfleet, bare, bare, certfleet, …). Each (server, mode) gets one untimed
 * warm-up run first, long enough for two requests per device (so each has a session to resume).
 * Rates are completed requests divided by the time from the first request to the last answer; the
 * figure reported is the median over rounds, the ratio is median / median. Each run also records
 * the server process's CPU time (and, for a local PostgreSQL, its backends' CPU), the client's CPU,
 * latency, SQL statements per result and results per history INSERT (the group-commit batch size).
 *
 * Usage: npx tsx bench/gateway.bench.ts [--quick] [--devices M] [--concurrency C] [--duration S]
 *          [--rounds R] [--modes handshake,resumed,keepalive] [--profile DIR]
 *   Full: M = 200, C = 64, 5 s per run, 7 rounds (about 4–5 minutes). --quick: M = 32, C = 16, 1 s,
 *   2 rounds (about 35 s). --profile DIR writes a V8 CPU profile of this process (the server side) per
 *   timed run, DIR/<certfleet|bare>-<mode>-NNN.cpuprofile; summarise with
 *   `npx tsx bench/profile-summary.ts DIR/certfleet-resumed-*.cpuprofile`. Profiled figures go to
 *   DIR/gateway.json, not bench/results/.
 *
 * Writes bench/results/gateway.json and bench/results/gateway.<embedded|postgres>.json (or into
 * $BENCH_RESULTS_DIR when that is set) and prints a markdown table.
 *
 * From another program: `runGatewayBench(opts)` runs the whole benchmark IN THE CALLER'S PROCESS (the
 * core and the bare server run there; it forks this file as the load child itself) and resolves with
 * the result; it writes the result files only with `write: true`. Importing this module starts nothing.
 */
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Agent as HttpsAgent, RequestOptions, Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ConnectionOptions, SecureContext, TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { benchCoreEnv, ClientProcess as BenchClientProcess, machine, sourceVersion, startProfiler, writeResults } from './bench-common.js';
import type { CoreHandle } from '../src/main.js';

const CHILD_FLAG = '--gateway-client';
const GOAL_RESUMED_RATIO = 0.7;
const AGENT_VERSION = '2024.1';
const CONNECT_PATH = '/agent/v1/connect';
const PAUSE_MS = 200; // between runs
const REQUEST_TIMEOUT_MS = 15_000;
/** A run stops early and the benchmark fails once this many requests went wrong. */
const MAX_ERRORS = 20;

export type Mode = 'handshake' | 'resumed' | 'keepalive';
export type Target = 'certfleet' | 'bare';
const ALL_MODES: Mode[] = ['handshake', 'resumed', 'keepalive'];

// ---------------------------------------------------------------------------------------------
// Messages between this process and the client process
// ---------------------------------------------------------------------------------------------

type ToClient =
  | { op: 'keys'; agentIds: string[] }
  | { op: 'certs'; caCertificatePem: string; certs: { agentId: string; certificatePem: string }[] }
  | { op: 'verify'; gatewayUrl: string }
  | { op: 'run'; id: number; target: Target; port: number; mode: Mode; concurrency: number; durationMs: number; minRequests: number }
  | { op: 'exit' };

interface RunReport {
  op: 'ran';
  id: number;
  /** Answered 200 with status AUTHENTICATION_SUCCEEDED. */
  ok: number;
  errors: number;
  errorSamples: string[];
  /** From the first request to the last answer (in-flight requests at the deadline included). */
  elapsedMs: number;
  /** Of the ok answers, how many came over a connection whose TLS session was resumed. */
  reused: number;
  /** Distinct TCP connections that carried the ok answers. */
  connections: number;
  tlsProtocols: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU time of the client process during the run (user + system). */
  clientCpuMs: number;
}

type FromClient =
  | { op: 'ready' }
  | { op: 'csrs'; csrs: { agentId: string; csrPem: string }[] }
  | { op: 'certsLoaded'; n: number }
  | { op: 'verified'; n: number; statuses: Record<string, number> }
  | RunReport
  | { op: 'error'; message: string };

// ---------------------------------------------------------------------------------------------
// Client process: the devices, their keys, and the load
// ---------------------------------------------------------------------------------------------

interface Device {
  agentId: string;
  body: Buffer;
  /** Names the device's identity for https.Agent (its pool and session cache are keyed by it). */
  certificatePem: string;
  secureContext: SecureContext;
}

async function runClient(): Promise<void> {
  const https = await import('node:https');
  const tls = await import('node:tls');
  const { createAgentClient, generateAgentKeyPair } = await import('../src/agent-client/agent-client.js');
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
  function connectOnce(agent: HttpsAgent, port: number, d: Device) {
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
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
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

// ---------------------------------------------------------------------------------------------
// Options, result and helpers
// ---------------------------------------------------------------------------------------------

export interface GatewayBenchOptions {
  /** --quick defaults: 32 devices, 16 workers, 1 s runs, 2 rounds. */
  quick?: boolean;
  devices?: number;
  concurrency?: number;
  durationMs?: number;
  rounds?: number;
  warmupMs?: number;
  modes?: Mode[];
  /** Write a CPU profile of this process per timed run into this directory. */
  profileDir?: string | null;
  /** PostgreSQL URL; default process.env.DATABASE_URL; absent: the embedded database. */
  databaseUrl?: string;
  /** Progress lines; default: stdout. */
  log?: (line: string) => void;
  /** Write bench/results/gateway.json and gateway.<database>.json (DIR/gateway.json when profiling). */
  write?: boolean;
  /** The command line recorded in the result. */
  command?: string;
}

export interface RunFigures {
  round: number;
  target: Target;
  mode: Mode;
  ok: number;
  errors: number;
  elapsedMs: number;
  rate: number;
  sessionReusedShare: number;
  connections: number;
  tlsProtocols: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  serverCpuMs: number;
  serverCpuUsPerRequest: number;
  clientCpuMs: number;
  /** CPU time of the local PostgreSQL backends connected to the benchmark's database during the run, else null. */
  postgresCpuMs: number | null;
  /** certfleet only: rise of max(connection_results.id) during the run, and SQL statements sent. */
  resultsRecorded?: number;
  statements?: number;
  /** certfleet only: INSERT statements into connection_results (one per transaction writing results). */
  historyInserts?: number;
  loadAverage1m: number;
}

/** TargetSummary is one server's figures for one mode over the timed rounds. */
export interface TargetSummary {
  medianRate: number;
  rates: number[];
  /** Of all answers, the share whose connection resumed a TLS session. */
  sessionReusedShare: number;
  connectionsPerRequest: number;
  /** Median over rounds of each run's median latency. */
  medianLatencyMs: number;
  serverCpuUsPerRequest: number;
  /** Median over rounds of server CPU time / elapsed time (above 1 when threads add up). */
  serverCpuShare: number;
  clientCpuShare: number;
  postgresCpuUsPerRequest: number | null;
}

export interface ModeResult {
  mode: Mode;
  certfleet: TargetSummary & {
    /** SQL statements the core sent per recorded result (onQuery). */
    statementsPerResult: number;
    /** Results per INSERT into connection_results: the group commit's mean batch size. */
    resultsPerHistoryInsert: number;
  };
  bare: TargetSummary;
  /** median certfleet rate / median bare rate. */
  ratio: number;
  /** Per round: certfleet rate / bare rate of the same round. */
  roundRatios: number[];
  /**
   * bare server CPU per request / certfleet CPU per request (its process, plus its PostgreSQL backends
   * when measured): the ratio of the rates each would reach on one CPU of its own. It does not depend
   * on how much CPU the client process or other programs take, which the rate ratio does.
   */
  cpuCostRatio: number;
  goal: { ratioAtLeast: number; met: boolean } | null;
}

export interface GatewayBenchResult {
  benchmark: 'agent gateway';
  date: string;
  command: string;
  database: 'embedded' | 'postgres';
  machine: ReturnType<typeof machine>;
  source: ReturnType<typeof sourceVersion> & { uncommittedInSrc: { path: string; sha256: string | null }[] | null };
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  settings: Record<string, unknown>;
  profiled: boolean;
  setup: { devices: number; enrollMs: number; approveMs: number; verifyStatuses: Record<string, number> };
  modes: ModeResult[];
  runs: RunFigures[];
}

/**
 * uncommittedSrc names the files under src/ that differ from the commit, with a hash of their
 * content, so a run made while src/ was being edited says which version it measured.
 */
function uncommittedSrc(): { path: string; sha256: string | null }[] | null {
  try {
    const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out
      .split('\n')
      .filter((l) => l.length > 3)
      .map((l) => l.slice(3).replace(/^.* -> /, ''))
      .map((path) => {
        try {
          return { path, sha256: createHash('sha256').update(readFileSync(join(root, path))).digest('hex').slice(0, 16) };
        } catch {
          return { path, sha256: null }; // deleted
        }
      });
  } catch {
    return null;
  }
}

/**
 * postgresCpuMs is the CPU time (user + system) used so far by the PostgreSQL backends connected to
 * `database` on this machine (read from /proc), or null where that cannot be read. Only meaningful
 * when the server runs here. Backends of other databases and the server's background processes
 * (WAL writer, checkpointer) are left out; a backend that exits between two readings loses its time.
 */
let clockTicks: number | undefined;
function postgresCpuMs(database: string): number | null {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const ticks = clockTicks;
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      let cmdline: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // A backend names itself "postgres: <cluster>: <user> <database> <client> <state>".
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue; // gone meanwhile, or not ours to read
      }
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      if (!cmdline.startsWith('postgres: ') || !cmdline.split(' ').includes(database)) continue;
      const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
      total += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    }
    return (1000 * total) / ticks;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------

export async function runGatewayBench(opts: GatewayBenchOptions = {}): Promise<GatewayBenchResult> {
  const quick = opts.quick ?? false;
  const nDevices = opts.devices ?? (quick ? 32 : 200);
  const concurrency = opts.concurrency ?? (quick ? 16 : 64);
  const durationMs = opts.durationMs ?? (quick ? 1_000 : 5_000);
  const rounds = opts.rounds ?? (quick ? 2 : 7);
  const warmupMs = opts.warmupMs ?? (quick ? 500 : 2_000);
  const modes = opts.modes ?? ALL_MODES;
  const profileDir = opts.profileDir ?? null;
  const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const started = new Date();
  const loadAtStart = loadavg();
  const host = machine();

  const https = await import('node:https');
  const { max } = await import('drizzle-orm');
  const { loadConfig, redactUrl } = await import('../src/config.js');
  const { startCore } = await import('../src/main.js');
  const { createCaSigner } = await import('../src/pki/index.js');
  const { connectionResults } = await import('../src/db/schema.js');
  const command =
    opts.command ??
    `${databaseUrl ? `DATABASE_URL=${redactUrl(databaseUrl)} ` : ''}npx tsx bench/gateway.bench.ts (runGatewayBench ${JSON.stringify({ quick, devices: nDevices, concurrency, durationMs, rounds, modes })})`;

  const dataDir = mkdtempSync(join(tmpdir(), 'certfleet-gateway-'));
  let core: CoreHandle | undefined;
  let bare: HttpsServer | undefined;
  let clients: BenchClientProcess<ToClient, FromClient> | undefined;
  let statements = 0;
  let historyInserts = 0;
  try {
    const env = benchCoreEnv(dataDir, databaseUrl);
    try {
      core = await startCore(loadConfig(env), {
        onQuery: (text) => {
          statements++;
          // One history INSERT per transaction that writes results: results / inserts is the batch size.
          if (/^\s*insert\s+into\s+"?connection_results"?/i.test(text)) historyInserts++;
        },
      });
    } catch (err) {
      if (databaseUrl && /CA private key/.test((err as Error).message)) {
        throw new Error(
          `${(err as Error).message}\n(the database already holds the CA of an earlier run, sealed with a key file from another temp DATA_DIR: ` +
            'each run needs an empty database of its own; drop and create it again)',
        );
      }
      throw err;
    }
    const c = core;
    const database = c.database.kind === 'postgres' ? `PostgreSQL (${redactUrl(databaseUrl!)})` : 'embedded (PGlite, temp DATA_DIR)';
    const pgUrl = c.database.kind === 'postgres' ? new URL(databaseUrl!) : null;
    const pgDatabase = pgUrl ? decodeURIComponent(pgUrl.pathname.slice(1)) : '';
    const localPostgres = pgUrl !== null && ['127.0.0.1', 'localhost', '[::1]'].includes(pgUrl.hostname) && postgresCpuMs(pgDatabase) !== null;
    const maxResultId = async () => {
      const [row] = await c.database.db.select({ id: max(connectionResults.id) }).from(connectionResults);
      return Number(row?.id ?? 0);
    };

    // The bare baseline: same CA, same kind of server certificate and key (EC P-256, from the core's
    // signer), client certificates required and verified by TLS, the gateway's session and keep-alive
    // settings; it reads the body, parses it and answers a small JSON document, recording nothing.
    const signer = await createCaSigner({ certificatePem: c.authority.certificatePem, privateKey: c.authority.privateKey });
    const bareCert = await signer.issueServerCertificate({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
    const bareBody = JSON.stringify({ status: 'AUTHENTICATION_SUCCEEDED', reason: null });
    bare = https.createServer(
      {
        key: bareCert.privateKeyPem,
        cert: bareCert.certificatePem,
        ca: c.authority.certificatePem,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        ticketKeys: randomBytes(48),
        sessionIdContext: 'certfleet-bench-bare',
        sessionTimeout: 3600,
        keepAlive: true,
        keepAliveTimeout: 30_000,
        noDelay: true,
      },
      (req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          let status = 200;
          try {
            JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            status = 400;
          }
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(bareBody)) });
          res.end(bareBody);
        });
      },
    );
    const b = bare;
    await new Promise<void>((ok, fail) => {
      b.once('error', fail);
      b.listen(0, '127.0.0.1', () => ok());
    });
    const barePort = (b.address() as AddressInfo).port;

    const childArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--inspect'));
    clients = new BenchClientProcess<ToClient, FromClient>(fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { execArgv: childArgv, stdio: 'inherit' }));
    const cp = clients;
    await cp.waitFor((m) => m.op === 'ready', 30_000, 'the client process to start');

    log(`certfleet agent gateway benchmark: ${nDevices} devices, ${concurrency} concurrent clients, runs of ${durationMs / 1000} s, ${rounds} rounds, modes ${modes.join(', ')}`);
    log(`database: ${database}; clients in a child process (pid ${cp.child.pid})`);
    log(`machine: ${host.nproc} CPUs (${host.cpuModel}), Node ${host.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    // --- Setup: keys and CSRs in the child, enrollment and approval here, certificates back to the child.
    const agentIds = Array.from({ length: nDevices }, (_, i) => `bench-gw-${String(i).padStart(5, '0')}`);
    cp.send({ op: 'keys', agentIds });
    const { csrs } = await cp.waitFor<Extract<FromClient, { op: 'csrs' }>>((m) => m.op === 'csrs', 120_000, 'keys and CSRs');
    const tEnroll = performance.now();
    const requestIds: string[] = [];
    for (const { agentId, csrPem } of csrs) {
      const r = await c.services.clientAccess.enroll({
        agentId,
        deviceName: agentId.toUpperCase(),
        agentVersion: AGENT_VERSION,
        csrPem,
        remoteAddress: '127.0.0.1',
        presentedCertificate: null,
      });
      if (r.status !== 'PENDING' && r.status !== 'APPROVED') throw new Error(`enrollment of ${agentId} came back ${r.status}`);
      requestIds.push(r.requestId);
    }
    const enrollMs = performance.now() - tEnroll;
    const tApprove = performance.now();
    const admin = { subject: 'bench', roles: ['SECURITY_ADMIN' as const] };
    for (let i = 0; i < requestIds.length; i += 500) {
      const chunk = requestIds.slice(i, i + 500);
      const states = await c.services.clientAccess.loadRequests(chunk.map(Number));
      const pending = chunk.filter((id) => states.get(Number(id))?.status === 'PENDING');
      if (pending.length === 0) continue;
      const res = await c.services.clientAccess.approveMany(admin, pending);
      if (res.failed.length > 0) throw new Error(`approveMany refused ${res.failed.length}: ${JSON.stringify(res.failed.slice(0, 3))}`);
    }
    const approveMs = performance.now() - tApprove;
    const certs: { agentId: string; certificatePem: string }[] = [];
    const issued = await c.services.clientAccess.loadRequests(requestIds.map(Number));
    for (let i = 0; i < requestIds.length; i++) {
      const e = issued.get(Number(requestIds[i]))!;
      if (e.status !== 'APPROVED' || !e.certificatePem) throw new Error(`request ${requestIds[i]} is ${e.status}, not APPROVED with a certificate`);
      certs.push({ agentId: csrs[i]!.agentId, certificatePem: e.certificatePem });
    }
    cp.send({ op: 'certs', caCertificatePem: c.authority.certificatePem, certs });
    await cp.waitFor((m) => m.op === 'certsLoaded', 60_000, 'the client to load certificates');
    cp.send({ op: 'verify', gatewayUrl: c.agentUrl });
    const verified = await cp.waitFor<Extract<FromClient, { op: 'verified' }>>((m) => m.op === 'verified', 120_000, 'one connect per device');
    const okKey = '200 AUTHENTICATION_SUCCEEDED';
    if (verified.statuses[okKey] !== nDevices) throw new Error(`the real agent client's connect() answered ${JSON.stringify(verified.statuses)}`);
    log(`setup: ${nDevices} devices enrolled in ${fmt(enrollMs)} ms, approved in ${fmt(approveMs)} ms; one connect() each with the real agent client: ${JSON.stringify(verified.statuses)}`);

    // --- Runs
    let runId = 0;
    let profileIndex = 0;
    const runs: RunFigures[] = [];
    async function measure(target: Target, mode: Mode, round: number, ms: number, minRequests = 0): Promise<RunFigures> {
      const id = ++runId;
      const before = target === 'certfleet' ? await maxResultId() : 0;
      const load = loadavg()[0]!;
      // Reading /proc for PostgreSQL's CPU is kept out of this process's measured CPU and its profile.
      const pg0 = localPostgres ? postgresCpuMs(pgDatabase) : null;
      const profiler = profileDir && round > 0 ? await startProfiler(100) : null;
      statements = 0;
      historyInserts = 0;
      const cpu0 = process.cpuUsage();
      cp.send({ op: 'run', id, target, port: target === 'certfleet' ? c.agentPort : barePort, mode, concurrency, durationMs: ms, minRequests });
      const r = await cp.waitFor<RunReport>((m) => m.op === 'ran' && m.id === id, ms + 2 * REQUEST_TIMEOUT_MS + 30_000 + 100 * minRequests, `${target} ${mode} run`);
      const cpu = process.cpuUsage(cpu0);
      const stmts = statements;
      const inserts = historyInserts;
      if (profiler) await profiler.stop(join(profileDir!, `${target}-${mode}-${String(++profileIndex).padStart(3, '0')}.cpuprofile`));
      const pg1 = pg0 !== null ? postgresCpuMs(pgDatabase) : null;
      if (r.errors > 0) {
        throw new Error(`${target} ${mode}: ${r.errors} request(s) failed (${r.ok} ok), e.g. ${r.errorSamples.join(' | ')}`);
      }
      const serverCpuMs = (cpu.user + cpu.system) / 1000;
      const f: RunFigures = {
        round,
        target,
        mode,
        ok: r.ok,
        errors: r.errors,
        elapsedMs: r.elapsedMs,
        rate: r.ok / (r.elapsedMs / 1000),
        sessionReusedShare: r.ok > 0 ? r.reused / r.ok : 0,
        connections: r.connections,
        tlsProtocols: r.tlsProtocols,
        latencyMs: r.latencyMs,
        serverCpuMs,
        serverCpuUsPerRequest: r.ok > 0 ? (1000 * serverCpuMs) / r.ok : NaN,
        clientCpuMs: r.clientCpuMs,
        postgresCpuMs: pg0 !== null && pg1 !== null ? pg1 - pg0 : null,
        loadAverage1m: load,
      };
      if (target === 'certfleet') {
        const recorded = (await maxResultId()) - before;
        if (recorded < r.ok) throw new Error(`${r.ok} connects were answered 200 but only ${recorded} results were recorded`);
        f.resultsRecorded = recorded;
        f.statements = stmts;
        f.historyInserts = inserts;
      }
      return f;
    }

    log('');
    log('warm-up (not recorded)');
    for (const mode of modes) {
      for (const target of ['certfleet', 'bare'] as Target[]) {
        // At least two requests per device, so every device has a cached session before the timed runs.
        const f = await measure(target, mode, 0, warmupMs, 2 * nDevices);
        log(`  ${mode.padEnd(9)} ${target.padEnd(9)} ${fmt(f.rate).padStart(6)} req/s`);
        await sleep(PAUSE_MS);
      }
    }

    log('');
    for (let round = 1; round <= rounds; round++) {
      const line: string[] = [];
      const busyLines: string[] = [];
      for (const mode of modes) {
        const order: Target[] = round % 2 === 1 ? ['certfleet', 'bare'] : ['bare', 'certfleet'];
        const got: Partial<Record<Target, RunFigures>> = {};
        for (const target of order) {
          got[target] = await measure(target, mode, round, durationMs);
          runs.push(got[target]!);
          await sleep(PAUSE_MS);
        }
        line.push(`${mode} ${fmt(got.certfleet!.rate)} / ${fmt(got.bare!.rate)} (${(got.certfleet!.rate / got.bare!.rate).toFixed(2)})`);
        const busy = (f: RunFigures) => `server ${pct(f.serverCpuMs / f.elapsedMs)}, client ${pct(f.clientCpuMs / f.elapsedMs)}`;
        busyLines.push(`    ${mode}: CPU busy certfleet run ${busy(got.certfleet!)}; bare run ${busy(got.bare!)}`);
      }
      log(`round ${round}/${rounds} (load ${loadavg()[0]!.toFixed(2)}), certfleet / bare req/s: ${line.join('; ')}`);
      for (const l of busyLines) log(l);
    }

    const modeResults: ModeResult[] = modes.map((mode) => {
      const of = (target: Target) => runs.filter((r) => r.mode === mode && r.target === target);
      const summarise = (rs: RunFigures[]): TargetSummary => ({
        medianRate: median(rs.map((r) => r.rate)),
        rates: rs.map((r) => r.rate),
        sessionReusedShare: sum(rs.map((r) => r.sessionReusedShare * r.ok)) / sum(rs.map((r) => r.ok)),
        connectionsPerRequest: sum(rs.map((r) => r.connections)) / sum(rs.map((r) => r.ok)),
        medianLatencyMs: median(rs.map((r) => r.latencyMs.p50)),
        serverCpuUsPerRequest: median(rs.map((r) => r.serverCpuUsPerRequest)),
        serverCpuShare: median(rs.map((r) => r.serverCpuMs / r.elapsedMs)),
        postgresCpuUsPerRequest: rs.every((r) => r.postgresCpuMs !== null) ? median(rs.map((r) => (1000 * r.postgresCpuMs!) / r.ok)) : null,
        clientCpuShare: median(rs.map((r) => r.clientCpuMs / r.elapsedMs)),
      });
      const cf = of('certfleet');
      const bs = of('bare');
      const ratio = median(cf.map((r) => r.rate)) / median(bs.map((r) => r.rate));
      return {
        mode,
        certfleet: {
          ...summarise(cf),
          statementsPerResult: sum(cf.map((r) => r.statements ?? 0)) / sum(cf.map((r) => r.resultsRecorded ?? 0)),
          resultsPerHistoryInsert: sum(cf.map((r) => r.resultsRecorded ?? 0)) / sum(cf.map((r) => r.historyInserts ?? 0)),
        },
        bare: summarise(bs),
        ratio,
        roundRatios: cf.map((r) => r.rate / bs.find((x) => x.round === r.round)!.rate),
        cpuCostRatio: summarise(bs).serverCpuUsPerRequest / (summarise(cf).serverCpuUsPerRequest + (summarise(cf).postgresCpuUsPerRequest ?? 0)),
        goal: mode === 'resumed' ? { ratioAtLeast: GOAL_RESUMED_RATIO, met: ratio >= GOAL_RESUMED_RATIO } : null,
      };
    });

    const result: GatewayBenchResult = {
      benchmark: 'agent gateway',
      date: started.toISOString(),
      command,
      database: c.database.kind,
      machine: host,
      source: { ...sourceVersion(), uncommittedInSrc: uncommittedSrc() },
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg(),
      settings: {
        devices: nDevices,
        concurrency,
        durationMs,
        rounds,
        warmupMs,
        modes,
        pauseMs: PAUSE_MS,
        agentVersion: AGENT_VERSION,
        request: `POST ${CONNECT_PATH} {"agentId","agentVersion"}, content-type application/json`,
        keys: 'EC P-256 client keys; server certificates EC P-256 from the core CA (gateway and bare alike)',
        interleaved: 'per round and mode: certfleet then bare on odd rounds, bare then certfleet on even rounds',
        rate: 'answers 200 AUTHENTICATION_SUCCEEDED / (first request to last answer)',
        clients: 'child process; one https.Agent per server and mode, kept across runs; one TLS secure context per device',
        bare: 'node:https, requestCert + rejectUnauthorized, same CA, same session ticket / timeout / keep-alive settings as the gateway; reads and parses the body, answers 200 with a 51-byte JSON body',
      },
      profiled: profileDir !== null,
      setup: { devices: nDevices, enrollMs, approveMs, verifyStatuses: verified.statuses },
      modes: modeResults,
      runs,
    };

    log('');
    for (const m of modeResults) {
      log(
        `${m.mode}: certfleet median ${fmt(m.certfleet.medianRate)} req/s (TLS sessions resumed ${pct(m.certfleet.sessionReusedShare)}, ` +
          `${fmt(m.certfleet.serverCpuUsPerRequest)} µs server CPU/request` +
          (m.certfleet.postgresCpuUsPerRequest !== null ? ` + ${fmt(m.certfleet.postgresCpuUsPerRequest)} µs PostgreSQL CPU/request` : '') +
          `, CPU busy: server ${pct(m.certfleet.serverCpuShare)} client ${pct(m.certfleet.clientCpuShare)}, ` +
          `${m.certfleet.statementsPerResult.toFixed(2)} SQL statements/result, ${m.certfleet.resultsPerHistoryInsert.toFixed(1)} results per history INSERT), ` +
          `bare median ${fmt(m.bare.medianRate)} req/s (resumed ${pct(m.bare.sessionReusedShare)}, ${fmt(m.bare.serverCpuUsPerRequest)} µs CPU/request, ` +
          `CPU busy: server ${pct(m.bare.serverCpuShare)} client ${pct(m.bare.clientCpuShare)}); ` +
          `ratio ${m.ratio.toFixed(2)} (per round ${m.roundRatios.map((x) => x.toFixed(2)).join(', ')}), CPU-cost ratio ${m.cpuCostRatio.toFixed(2)}` +
          (m.goal ? ` — goal ≥ ${m.goal.ratioAtLeast}: ${m.goal.met ? 'MET' : 'NOT MET'}` : ''),
      );
    }

    if (opts.write) {
      const written = writeResults(dirname(fileURLToPath(import.meta.url)), 'gateway', result.database, result, profileDir);
      log('');
      log(`results: ${written.join(', ')}`);
    }
    log('');
    log(markdownTable(result));
    return result;
  } finally {
    await clients?.stop().catch(() => {});
    if (bare) {
      bare.closeAllConnections();
      await new Promise<void>((ok) => bare!.close(() => ok()));
    }
    await core?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** markdownTable is the result as BENCHMARKS.md shows it. */
export function markdownTable(result: GatewayBenchResult): string {
  const rows = [
    '| database | mode | certfleet req/s | bare `https` req/s | ratio | goal | met? | TLS sessions resumed (certfleet / bare) | server CPU per request (certfleet / bare) | CPU-cost ratio |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const m of result.modes) {
    rows.push(
      `| ${result.database === 'postgres' ? 'PostgreSQL' : 'embedded'} | ${m.mode} | ${fmt(m.certfleet.medianRate)} | ${fmt(m.bare.medianRate)} | ${m.ratio.toFixed(2)} | ` +
        `${m.goal ? `≥ ${m.goal.ratioAtLeast}` : '—'} | ${m.goal ? (m.goal.met ? 'yes' : '**no**') : '—'} | ` +
        `${pct(m.certfleet.sessionReusedShare)} / ${pct(m.bare.sessionReusedShare)} | ` +
        `${fmt(m.certfleet.serverCpuUsPerRequest)} µs${m.certfleet.postgresCpuUsPerRequest !== null ? ` + ${fmt(m.certfleet.postgresCpuUsPerRequest)} µs PostgreSQL` : ''} / ${fmt(m.bare.serverCpuUsPerRequest)} µs | ` +
        `${m.cpuCostRatio.toFixed(2)} |`,
    );
  }
  return rows.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

const USAGE =
  'usage: npx tsx bench/gateway.bench.ts [--quick] [--devices M] [--concurrency C] [--duration S] [--rounds R] [--modes handshake,resumed,keepalive] [--profile DIR]';

function parseArgs(argv: string[]): GatewayBenchOptions {
  const o: GatewayBenchOptions = {};
  const value = (a: string, i: number, name: string): [string, number] => {
    if (a.includes('=')) return [a.slice(name.length + 1), i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${name} needs a value (${USAGE})`);
    return [v, i + 1];
  };
  const positive = (raw: string, name: string, decimal = false) => {
    const ok = decimal ? /^\d+(\.\d+)?$/.test(raw) : /^\d+$/.test(raw);
    if (!ok || Number(raw) <= 0) throw new Error(`${name} needs a positive ${decimal ? 'number' : 'whole number'} (got ${JSON.stringify(raw)})`);
    return Number(raw);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (['--devices', '--concurrency', '--rounds', '--duration', '--modes', '--profile'].includes(name)) {
      const [raw, j] = value(a, i, name);
      i = j;
      if (name === '--devices') o.devices = positive(raw, name);
      else if (name === '--concurrency') o.concurrency = positive(raw, name);
      else if (name === '--rounds') o.rounds = positive(raw, name);
      else if (name === '--duration') o.durationMs = positive(raw, name, true) * 1000;
      else if (name === '--profile') o.profileDir = resolve(raw);
      else {
        const modes = raw.split(',').map((m) => m.trim());
        for (const m of modes) if (!ALL_MODES.includes(m as Mode)) throw new Error(`--modes takes ${ALL_MODES.join(', ')} (got ${JSON.stringify(m)})`);
        o.modes = modes as Mode[];
      }
    } else throw new Error(`unknown argument ${JSON.stringify(a)} (${USAGE})`);
  }
  return o;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { redactUrl } = await import('../src/config.js');
  const commandLine = 'npx tsx bench/gateway.bench.ts' + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '');
  const command = process.env.DATABASE_URL ? `DATABASE_URL=${redactUrl(process.env.DATABASE_URL)} ${commandLine}` : commandLine;
  await runGatewayBench({ ...opts, command, write: true });
}

const isEntry = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntry && process.argv.includes(CHILD_FLAG)) {
  runClient().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else if (isEntry) {
  main().catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  });
}
