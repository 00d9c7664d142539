/**
 * Subscription fan-out benchmark: how long one device status change takes to reach EVERY open
 * `authStatusSummaryChanged` subscription of a real in-process core, against a bare `ws` server
 * broadcasting a message of the same size to the same number of sockets, in the same run.
 *
 * The server side (the core and the bare WebSocketServer) runs in this process; the N + N client
 * sockets run in a child process (this same file, started with --fanout-client), so this process's
 * memory is the server's alone and the two sides do not share an event loop. Clients speak the
 * graphql-ws protocol (graphql-transport-ws) by hand over `ws`: connection_init with the bearer token,
 * connection_ack, subscribe, first `next`.
 *
 * For each N (default 1000, then 5000):
 *  1. server memory (after a forced GC) before and after opening N certfleet subscribers, then after
 *     opening N bare sockets: bytes per idle subscriber / per bare socket;
 *  2. warm-up, then `--changes` interleaved rounds (the order flips every round, a pause between):
 *     - certfleet: `services.connections.recordConnectionResult(...)` for one agent, alternating
 *       succeeded / failed facts; timed from the call until the last of the N subscribers has
 *       received a summary whose `succeeded` and `failed` counts reflect it;
 *     - bare: one `ws.send(message)` per socket of a same-size JSON message; timed from the first
 *       send until the last of the N sockets has received it.
 *  Receive times come from the child's process.hrtime (CLOCK_MONOTONIC, the same clock as here).
 *
 * Usage: npx tsx bench/fanout.bench.ts [--subscribers 1000,5000] [--changes 10] [--quick] [--profile DIR]
 *   --quick is --subscribers 200 --changes 5. DATABASE_URL selects PostgreSQL, else the embedded
 *   database (PGlite in a temp DATA_DIR). --profile DIR writes a V8 CPU profile of this process (the
 *   server side) for each timed change and broadcast; summarise with
 *   `npx tsx bench/profile-summary.ts DIR/certfleet-*.cpuprofile`. Profiled figures go to DIR/fanout.json.
 *
 * Writes bench/results/fanout.json and bench/results/fanout.<database>.json (or into BENCH_RESULTS_DIR)
 * and prints a markdown table.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { redactUrl } from '../src/config.js';
import { benchCoreEnv, ClientProcess as BenchClientProcess, machine, sourceVersion, startProfiler, writeResults } from './bench-common.js';
import { runInNewContext } from 'node:vm';
import type WebSocketType from 'ws';
import type { WebSocketServer as WebSocketServerType } from 'ws';
import type { CoreHandle } from '../src/main.js';

const CHILD_FLAG = '--fanout-client';
const GOAL_RATIO = 2;
const WARMUP = 3; // untimed rounds per N, both kinds
const PAUSE_MS = 300; // between measurements; longer than any summary push interval used here
const SUMMARY_PUSH_MS = '0'; // no coalescing delay: one push per change
const OPEN_IN_FLIGHT = 100; // at most this many WebSocket handshakes at once (no SYN flood)
const ROUND_TIMEOUT_MS = 30_000;
const SUMMARY_QUERY =
  'subscription { authStatusSummaryChanged { total succeeded failed noAuthenticationInfo mustUpgrade successRate items { status count } } }';
const AGENT_ID = 'bench-fanout-0001';

type Kind = 'certfleet' | 'bare';

// ---------------------------------------------------------------------------------------------
// Messages between this process and the client process
// ---------------------------------------------------------------------------------------------

type ToClient =
  | { op: 'open'; kind: Kind; n: number; url: string; token?: string }
  | { op: 'arm'; kind: Kind; round: number; expect: { succeeded: number; failed: number } | { seq: number } }
  | { op: 'close'; kind: Kind }
  | { op: 'exit' };

type FromClient =
  | { op: 'ready' }
  | { op: 'opened'; kind: Kind; n: number; ms: number; firstBytes: number }
  | { op: 'armed'; round: number }
  | { op: 'done'; kind: Kind; round: number; first: string; last: string; bytes: number; stray: number }
  | { op: 'closed'; kind: Kind; unexpectedCloses: number }
  | { op: 'error'; message: string };

// ---------------------------------------------------------------------------------------------
// Client process: N graphql-ws subscribers and N bare sockets, each on its own WebSocket
// ---------------------------------------------------------------------------------------------

interface ClientSocket {
  ws: WebSocketType;
  kind: Kind;
  /** The round this socket last counted a matching message for. */
  counted: number;
  onFirst?: (bytes: number) => void;
  closing: boolean;
}

async function runClient(): Promise<void> {
  const { default: WebSocket } = await import('ws');
  const send = (m: FromClient) => process.send!(m);
  const sockets: Record<Kind, ClientSocket[]> = { certfleet: [], bare: [] };
  let armed:
    | {
        kind: Kind;
        round: number;
        expect: { succeeded: number; failed: number } | { seq: number };
        n: number;
        count: number;
        first: bigint;
        last: bigint;
        bytes: number;
        stray: number;
      }
    | undefined;
  let stray = 0;
  let unexpectedCloses = 0;
  let fatal: string | undefined;

  const fail = (message: string) => {
    if (fatal) return;
    fatal = message;
    send({ op: 'error', message });
  };

  function onMessage(s: ClientSocket, data: Buffer) {
    const at = process.hrtime.bigint();
    let msg: { type?: string; id?: string; payload?: { data?: Record<string, any>; errors?: unknown } };
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      stray++;
      return;
    }
    if (s.kind === 'certfleet') {
      if (msg.type === 'connection_ack') {
        s.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUMMARY_QUERY } }));
        return;
      }
      if (msg.type === 'ping') {
        s.ws.send(JSON.stringify({ type: 'pong' }));
        return;
      }
      if (msg.type === 'error' || msg.type === 'complete' || msg.payload?.errors) {
        fail(`a subscriber got ${msg.type}: ${JSON.stringify(msg.payload ?? null).slice(0, 300)}`);
        return;
      }
      if (msg.type !== 'next') return;
    }
    if (s.onFirst) {
      const f = s.onFirst;
      s.onFirst = undefined;
      f(data.length);
      return;
    }
    const a = armed;
    if (!a || a.kind !== s.kind || s.counted === a.round) {
      if (a) a.stray++;
      else stray++;
      return;
    }
    let ok: boolean;
    if ('seq' in a.expect) {
      ok = msg.payload?.data?.bare?.seq === a.expect.seq;
    } else {
      const summary = msg.payload?.data?.authStatusSummaryChanged as { succeeded?: number; failed?: number } | undefined;
      ok = summary?.succeeded === a.expect.succeeded && summary?.failed === a.expect.failed;
    }
    if (!ok) {
      a.stray++;
      return;
    }
    s.counted = a.round;
    if (a.count === 0) a.first = at;
    a.last = at;
    a.bytes = data.length;
    a.count++;
    if (a.count === a.n) {
      armed = undefined;
      send({ op: 'done', kind: a.kind, round: a.round, first: String(a.first), last: String(a.last), bytes: a.bytes, stray: a.stray });
    }
  }

  function openOne(kind: Kind, url: string, token: string | undefined): Promise<{ socket: ClientSocket; bytes: number }> {
    return new Promise((resolveOpen, rejectOpen) => {
      const ws =
        kind === 'certfleet'
          ? new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false })
          : new WebSocket(url, { perMessageDeflate: false });
      const s: ClientSocket = { ws, kind, counted: -1, closing: false };
      let settled = false;
      const timer = setTimeout(() => done(new Error(`a ${kind} socket did not open within ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
      const done = (err: Error | null, bytes = 0) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          ws.terminate();
          rejectOpen(err);
        } else resolveOpen({ socket: s, bytes });
      };
      if (kind === 'certfleet') s.onFirst = (bytes) => done(null, bytes);
      ws.on('open', () => {
        if (kind === 'certfleet') {
          ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
        } else done(null);
      });
      ws.on('message', (data) => onMessage(s, data as Buffer));
      ws.on('error', (err) => done(err));
      ws.on('close', (code, reason) => {
        if (!settled) return done(new Error(`a ${kind} socket closed while opening: ${code} ${reason.toString()}`));
        if (!s.closing) {
          unexpectedCloses++;
          fail(`a ${kind} socket closed unexpectedly: ${code} ${reason.toString()}`);
        }
      });
    });
  }

  async function openMany(kind: Kind, n: number, url: string, token?: string) {
    const t0 = performance.now();
    let next = 0;
    let firstBytes = 0;
    await Promise.all(
      Array.from({ length: Math.min(OPEN_IN_FLIGHT, n) }, async () => {
        while (next < n) {
          next++;
          const { socket, bytes } = await openOne(kind, url, token);
          sockets[kind].push(socket);
          if (bytes > firstBytes) firstBytes = bytes;
        }
      }),
    );
    return { ms: performance.now() - t0, firstBytes };
  }

  async function closeAll(kind: Kind) {
    const list = sockets[kind];
    sockets[kind] = [];
    await Promise.all(
      list.map(
        (s) =>
          new Promise<void>((ok) => {
            s.closing = true;
            if (s.ws.readyState === WebSocket.CLOSED) return ok();
            const t = setTimeout(() => {
              s.ws.terminate();
              ok();
            }, 5_000);
            s.ws.once('close', () => {
              clearTimeout(t);
              ok();
            });
            s.ws.close(1000, 'bench done');
          }),
      ),
    );
  }

  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const m = raw as ToClient;
    void (async () => {
      try {
        if (m.op === 'open') {
          const { ms, firstBytes } = await openMany(m.kind, m.n, m.url, m.token);
          send({ op: 'opened', kind: m.kind, n: sockets[m.kind].length, ms, firstBytes });
        } else if (m.op === 'arm') {
          armed = { kind: m.kind, round: m.round, expect: m.expect, n: sockets[m.kind].length, count: 0, first: 0n, last: 0n, bytes: 0, stray: 0 };
          send({ op: 'armed', round: m.round });
        } else if (m.op === 'close') {
          await closeAll(m.kind);
          send({ op: 'closed', kind: m.kind, unexpectedCloses });
        } else if (m.op === 'exit') {
          await Promise.all([closeAll('certfleet'), closeAll('bare')]);
          process.exit(0);
        }
      } catch (err) {
        fail((err as Error).message);
      }
    })();
  });
  send({ op: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Server side: helpers
// ---------------------------------------------------------------------------------------------

interface Args {
  sizes: number[];
  changes: number;
  profileDir: string | null;
}

const USAGE = 'usage: npx tsx bench/fanout.bench.ts [--subscribers 1000,5000] [--changes 10] [--quick] [--profile DIR]';

function parseArgs(argv: string[]): Args {
  let sizes: number[] | undefined;
  let changes: number | undefined;
  let quick = false;
  let profileDir: string | null = null;
  const value = (a: string, i: number, name: string): [string, number] => {
    if (a.includes('=')) return [a.slice(name.length + 1), i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${name} needs a value (${USAGE})`);
    return [v, i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--subscribers' || a.startsWith('--subscribers=')) {
      const [raw, j] = value(a, i, '--subscribers');
      i = j;
      sizes = raw.split(',').map((x) => {
        if (!/^\d+$/.test(x.trim()) || Number(x) < 1) throw new Error(`--subscribers takes positive whole numbers (got ${JSON.stringify(raw)})`);
        return Number(x);
      });
    } else if (a === '--changes' || a.startsWith('--changes=')) {
      const [raw, j] = value(a, i, '--changes');
      i = j;
      if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`--changes needs a positive whole number (got ${JSON.stringify(raw)})`);
      changes = Number(raw);
    } else if (a === '--profile' || a.startsWith('--profile=')) {
      const [raw, j] = value(a, i, '--profile');
      i = j;
      profileDir = resolve(raw);
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${JSON.stringify(a)} (${USAGE})`);
  }
  return { sizes: sizes ?? (quick ? [200] : [1000, 5000]), changes: changes ?? (quick ? 5 : 10), profileDir };
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** stats: median and p99 by nearest rank (with 10 samples p99 is the largest). */
function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    n: sorted.length,
    min: sorted[0]!,
    median,
    p99: rank(0.99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((x, y) => x + y, 0) / sorted.length,
  };
}

/** fdLimits reads this process's open-file limits (a child shell inherits them). */
function fdLimits(): { soft: number; hard: number } | null {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
    const num = (s: string | undefined) => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: num(out[0]), hard: num(out[1]) };
  } catch {
    return null;
  }
}

/** collectGarbage is global.gc, exposed at run time when node was started without --expose-gc. */
function collectGarbage(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

async function settledMemory(gc: () => void): Promise<Mem> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(100);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

function perItem(after: Mem, before: Mem, n: number) {
  const d = (k: keyof Mem) => Math.round((after[k] - before[k]) / n);
  return { rss: d('rss'), heapUsed: d('heapUsed'), external: d('external'), arrayBuffers: d('arrayBuffers') };
}

async function waitUntil(pred: () => boolean, timeoutMs: number, what: string) {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}


// ---------------------------------------------------------------------------------------------
// Server side: the run
// ---------------------------------------------------------------------------------------------

interface Sample {
  /** From the change (or the first send) to the last subscriber's receipt. */
  totalMs: number;
  /** From the change to the first subscriber's receipt. */
  firstMs: number;
  /** certfleet: recordConnectionResult resolved (committed); bare: the send loop returned. */
  localMs: number;
  bytes: number;
  stray: number;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const loadAtStart = loadavg();
  const host = machine();
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const here = dirname(fileURLToPath(import.meta.url));
  const commandLine =
    'npx tsx bench/fanout.bench.ts' + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '');
  const command = process.env.DATABASE_URL ? `DATABASE_URL=${redactUrl(process.env.DATABASE_URL)} ${commandLine}` : commandLine;

  // Each process holds up to 2N sockets at the largest N (N certfleet + N bare), plus a few files.
  const maxN = Math.max(...args.sizes);
  const needFds = 2 * maxN + 256;
  const limits = fdLimits();
  if (limits && limits.soft < needFds) {
    throw new Error(
      `open-file limit too low: ulimit -n is ${limits.soft}, this run needs about ${needFds} per process ` +
        `(2 × ${maxN} sockets + files). Node cannot raise its own limit: run \`ulimit -n ${Math.min(needFds, limits.hard)}\` ` +
        `in the shell first${limits.hard < needFds ? ` (the hard limit, ${limits.hard}, is too low as well: use fewer subscribers)` : ''}.`,
    );
  }

  const gc = collectGarbage();
  const { default: WebSocket, WebSocketServer } = await import('ws');
  const { loadConfig } = await import('../src/config.js');
  const { startCore } = await import('../src/main.js');
  const { issueToken } = await import('../src/server/auth.js');
  const { factsFor } = await import('../test/support/seed.js');

  const dataDir = mkdtempSync(join(tmpdir(), 'certfleet-fanout-'));
  let core: CoreHandle | undefined;
  let bare: WebSocketServerType | undefined;
  let clients: BenchClientProcess<ToClient, FromClient> | undefined;
  let result: object | undefined;
  const rows: string[] = [];
  try {
    // Every dashboard of the run shares one token: the per-token socket limit must admit them all.
    const env = benchCoreEnv(dataDir, process.env.DATABASE_URL, {
      SUMMARY_PUSH_MS,
      GRAPHQL_WS_MAX_CONNECTIONS_PER_TOKEN: String(maxN + 10),
    });
    const config = loadConfig(env);
    core = await startCore(config);
    const c = core;
    const token = await issueToken(config.auth, { subject: 'bench', roles: ['VIEWER'], ttlSeconds: 3600 });
    const database =
      c.database.kind === 'postgres' ? `PostgreSQL (${redactUrl(process.env.DATABASE_URL!)})` : 'embedded (PGlite, temp DATA_DIR)';
    const wsUrl = c.url.replace(/^http/, 'ws');

    // The measured device: an agent whose status flips between succeeded and failed at each change
    // (imported first: results are recorded against known devices only).
    let nextKind: 'succeeded' | 'revoked' = 'succeeded';
    await c.services.devices.registerDevices({ subject: 'bench', roles: ['SECURITY_ADMIN'] }, [{ name: AGENT_ID, agentId: AGENT_ID }]);
    await c.services.connections.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId: AGENT_ID, ...factsFor('revoked', AGENT_ID) });

    bare = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024 });
    const b = bare;
    await new Promise<void>((ok, fail) => {
      b.once('listening', ok);
      b.once('error', fail);
    });
    const bareUrl = `ws://127.0.0.1:${(b.address() as AddressInfo).port}/`;

    const childArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--inspect'));
    clients = new BenchClientProcess<ToClient, FromClient>(fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { execArgv: childArgv, stdio: 'inherit' }));
    const cp = clients;
    await cp.waitFor((m) => m.op === 'ready', 30_000, 'the client process to start');

    log(`certfleet subscription fan-out benchmark: N = ${args.sizes.join(', ')} subscribers, ${args.changes} changes each`);
    log(`database: ${database}; SUMMARY_PUSH_MS=${SUMMARY_PUSH_MS}; clients in a child process (pid ${cp.child.pid})`);
    log(`machine: ${host.nproc} CPUs (${host.cpuModel}), Node ${host.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    log(`open-file limit: ${limits ? `${limits.soft} (hard ${limits.hard})` : 'unknown'}; needed about ${needFds} per process`);

    let round = 0;
    let profileIndex = 0;
    const maybeProfile = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      if (!args.profileDir) return fn();
      const p = await startProfiler(100);
      try {
        return await fn();
      } finally {
        await p.stop(join(args.profileDir, `${name}-${String(++profileIndex).padStart(3, '0')}.cpuprofile`));
      }
    };

    /** One status change, timed until every certfleet subscriber has a summary reflecting it. */
    async function certfleetChange(n: number): Promise<Sample> {
      const before = await c.services.security.readSummary();
      const kind = nextKind;
      const expect =
        kind === 'succeeded'
          ? { succeeded: before.succeeded + 1, failed: before.failed - 1 }
          : { succeeded: before.succeeded - 1, failed: before.failed + 1 };
      const r = ++round;
      cp.send({ op: 'arm', kind: 'certfleet', round: r, expect });
      await cp.waitFor((m) => m.op === 'armed' && m.round === r, 10_000, 'the client to arm');
      const done = cp.waitFor<Extract<FromClient, { op: 'done' }>>(
        (m) => m.op === 'done' && m.round === r,
        ROUND_TIMEOUT_MS,
        `all ${n} subscribers to receive change ${r}`,
      );
      done.catch(() => {});
      const facts = factsFor(kind, AGENT_ID);
      const t0 = process.hrtime.bigint();
      const recorded = await c.services.connections.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId: AGENT_ID, ...facts });
      const t1 = process.hrtime.bigint();
      const want = kind === 'succeeded' ? 'AUTHENTICATION_SUCCEEDED' : 'AUTHENTICATION_FAILED';
      if (recorded.device.authStatus !== want) throw new Error(`the change recorded ${recorded.device.authStatus}, expected ${want}`);
      nextKind = kind === 'succeeded' ? 'revoked' : 'succeeded';
      const d = await done;
      const ms = (t: bigint) => Number(t - t0) / 1e6;
      return { totalMs: ms(BigInt(d.last)), firstMs: ms(BigInt(d.first)), localMs: ms(t1), bytes: d.bytes, stray: d.stray };
    }

    /** One same-size message to every bare socket, timed until every one has it. */
    async function bareBroadcast(n: number, bytes: number): Promise<Sample> {
      const r = ++round;
      const message = bareMessage(r, bytes);
      cp.send({ op: 'arm', kind: 'bare', round: r, expect: { seq: r } });
      await cp.waitFor((m) => m.op === 'armed' && m.round === r, 10_000, 'the client to arm');
      const done = cp.waitFor<Extract<FromClient, { op: 'done' }>>(
        (m) => m.op === 'done' && m.round === r,
        ROUND_TIMEOUT_MS,
        `all ${n} bare sockets to receive broadcast ${r}`,
      );
      done.catch(() => {});
      const t0 = process.hrtime.bigint();
      for (const ws of b.clients) if (ws.readyState === WebSocket.OPEN) ws.send(message);
      const t1 = process.hrtime.bigint();
      const d = await done;
      const ms = (t: bigint) => Number(t - t0) / 1e6;
      return { totalMs: ms(BigInt(d.last)), firstMs: ms(BigInt(d.first)), localMs: ms(t1), bytes: d.bytes, stray: d.stray };
    }

    const sizes = [];
    for (const n of args.sizes) {
      log('');
      log(`N = ${n}`);
      const m0 = await settledMemory(gc);
      cp.send({ op: 'open', kind: 'certfleet', n, url: wsUrl, token });
      const openedCf = await cp.waitFor<Extract<FromClient, { op: 'opened' }>>(
        (m) => m.op === 'opened' && m.kind === 'certfleet',
        Math.max(60_000, n * 30),
        `${n} certfleet subscribers to open`,
      );
      await waitUntil(() => c.live.subscriberCount() === n, 10_000, `the core to count ${n} subscribers`);
      const m1 = await settledMemory(gc);
      log(`  ${n} graphql-ws subscribers open and past their first summary in ${fmt(openedCf.ms)} ms (first message ${openedCf.firstBytes} B)`);

      cp.send({ op: 'open', kind: 'bare', n, url: bareUrl });
      const openedBare = await cp.waitFor<Extract<FromClient, { op: 'opened' }>>(
        (m) => m.op === 'opened' && m.kind === 'bare',
        Math.max(60_000, n * 30),
        `${n} bare sockets to open`,
      );
      await waitUntil(() => b.clients.size === n, 10_000, `the bare server to count ${n} sockets`);
      const m2 = await settledMemory(gc);
      log(`  ${n} bare sockets open in ${fmt(openedBare.ms)} ms`);

      const memory = {
        before: m0,
        withSubscribers: m1,
        withSubscribersAndBare: m2,
        perCertfleetSubscriber: perItem(m1, m0, n),
        perBareSocket: perItem(m2, m1, n),
      };
      log(
        `  server memory per idle subscriber: heap ${fmt(memory.perCertfleetSubscriber.heapUsed)} B, RSS ${fmt(memory.perCertfleetSubscriber.rss)} B` +
          ` (bare socket: heap ${fmt(memory.perBareSocket.heapUsed)} B, RSS ${fmt(memory.perBareSocket.rss)} B)`,
      );

      // Warm-up (not recorded); it also gives the size of a real summary message.
      let bytes = 0;
      for (let w = 0; w < WARMUP; w++) {
        bytes = (await certfleetChange(n)).bytes;
        await sleep(PAUSE_MS);
        await bareBroadcast(n, bytes);
        await sleep(PAUSE_MS);
      }

      const cf: Sample[] = [];
      const bs: Sample[] = [];
      for (let i = 0; i < args.changes; i++) {
        const order: Kind[] = i % 2 === 0 ? ['certfleet', 'bare'] : ['bare', 'certfleet'];
        for (const k of order) {
          if (k === 'certfleet') {
            cf.push(await maybeProfile(`certfleet-${n}`, () => certfleetChange(n)));
            bytes = cf[cf.length - 1]!.bytes; // the bare message matches the latest summary's size
          } else bs.push(await maybeProfile(`bare-${n}`, () => bareBroadcast(n, bytes)));
          await sleep(PAUSE_MS);
        }
      }
      const cfTotal = stats(cf.map((s) => s.totalMs));
      const bareTotal = stats(bs.map((s) => s.totalMs));
      const ratio = { median: cfTotal.median / bareTotal.median, p99: cfTotal.p99 / bareTotal.p99 };
      const met = ratio.median <= GOAL_RATIO;
      log(`  certfleet: median ${fmt(cfTotal.median, 1)} ms, p99 ${fmt(cfTotal.p99, 1)} ms  (samples ${cf.map((s) => s.totalMs.toFixed(1)).join(', ')})`);
      log(`    of which the database write until commit: median ${fmt(stats(cf.map((s) => s.localMs)).median, 1)} ms (the bare broadcast has none)`);
      log(`  bare ws:   median ${fmt(bareTotal.median, 1)} ms, p99 ${fmt(bareTotal.p99, 1)} ms  (samples ${bs.map((s) => s.totalMs.toFixed(1)).join(', ')})`);
      log(`  ratio certfleet / bare: median ${ratio.median.toFixed(2)}, p99 ${ratio.p99.toFixed(2)} (goal ≤ ${GOAL_RATIO}): ${met ? 'MET' : 'NOT MET'}`);

      sizes.push({
        subscribers: n,
        messageBytes: { certfleet: cf[0]?.bytes ?? bytes, bare: bs[0]?.bytes ?? bytes },
        open: { certfleetMs: openedCf.ms, bareMs: openedBare.ms },
        memory,
        certfleet: {
          total: cfTotal,
          firstReceipt: stats(cf.map((s) => s.firstMs)),
          committed: stats(cf.map((s) => s.localMs)),
          samples: cf,
        },
        bare: {
          total: bareTotal,
          firstReceipt: stats(bs.map((s) => s.firstMs)),
          sendLoop: stats(bs.map((s) => s.localMs)),
          samples: bs,
        },
        ratio,
        goal: { ratioAtMost: GOAL_RATIO, on: 'median', met },
      });
      rows.push(
        `| ${fmt(n)} | ${fmt(cfTotal.median, 1)} ms | ${fmt(cfTotal.p99, 1)} ms | ${fmt(bareTotal.median, 1)} ms | ${fmt(bareTotal.p99, 1)} ms | ` +
          `${ratio.median.toFixed(2)} | ${ratio.p99.toFixed(2)} | ≤ ${GOAL_RATIO} | ${met ? 'yes' : '**no**'} | ` +
          `${fmt(memory.perCertfleetSubscriber.heapUsed)} B / ${fmt(memory.perCertfleetSubscriber.rss)} B | ` +
          `${fmt(memory.perBareSocket.heapUsed)} B / ${fmt(memory.perBareSocket.rss)} B |`,
      );

      cp.send({ op: 'close', kind: 'certfleet' });
      cp.send({ op: 'close', kind: 'bare' });
      const closed = [
        await cp.waitFor<Extract<FromClient, { op: 'closed' }>>((m) => m.op === 'closed' && m.kind === 'certfleet', 60_000, 'subscribers to close'),
        await cp.waitFor<Extract<FromClient, { op: 'closed' }>>((m) => m.op === 'closed' && m.kind === 'bare', 60_000, 'bare sockets to close'),
      ];
      if (closed.some((x) => x.unexpectedCloses > 0)) throw new Error('some sockets closed unexpectedly during the run');
      await waitUntil(() => c.live.subscriberCount() === 0 && b.clients.size === 0, 30_000, 'the servers to drop every socket');
    }

    result = {
      benchmark: 'subscription fan-out',
      date: started.toISOString(),
      command,
      database: c.database.kind,
      machine: host,
      source: sourceVersion(),
      openFileLimit: limits,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg(),
      settings: {
        summaryPushMs: Number(SUMMARY_PUSH_MS),
        changes: args.changes,
        warmupRounds: WARMUP,
        pauseMs: PAUSE_MS,
        handshakesInFlight: OPEN_IN_FLIGHT,
        query: SUMMARY_QUERY,
        interleaved: 'round i: one certfleet change and one bare broadcast; the order flips every round',
        clients: 'child process, one WebSocket per subscriber, hand-rolled graphql-transport-ws',
        p99: 'nearest rank; with 10 samples it is the largest',
      },
      profiled: args.profileDir !== null,
      sizes,
    };
  } finally {
    await clients?.stop().catch(() => {});
    if (bare) {
      for (const ws of bare.clients) ws.terminate();
      await new Promise<void>((ok) => bare!.close(() => ok()));
    }
    await core?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const written = writeResults(here, 'fanout', (result as { database: string }).database, result, args.profileDir);
  log('');
  log(`results: ${written.join(', ')}`);
  log('');
  log('| subscribers | certfleet median | certfleet p99 | bare `ws` median | bare `ws` p99 | ratio (median) | ratio (p99) | goal | met? | server memory per idle subscriber (heap / RSS) | per bare socket (heap / RSS) |');
  log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) log(r);
}

/** bareMessage is a graphql-ws-shaped `next` message of exactly `bytes` bytes carrying seq. */
function bareMessage(seq: number, bytes: number): string {
  const head = `{"id":"1","type":"next","payload":{"data":{"bare":{"seq":${seq},"pad":"`;
  const tail = '"}}}}';
  const pad = Math.max(0, bytes - head.length - tail.length);
  return head + 'x'.repeat(pad) + tail;
}

if (process.argv.includes(CHILD_FLAG)) {
  runClient().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  });
}
