// The fan-out benchmark's runner: the core and the bare WebSocketServer in this process, the sockets
// in a child (client.ts); per N, memory, warm-up and interleaved timed changes, then the result
// files and the table. See bench/fanout.bench.ts for what is measured and how.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WebSocketServer as WebSocketServerType } from 'ws';
import { redactUrl } from '../../src/config.js';
import type { CoreHandle } from '../../src/main.js';
import { ClientProcess as BenchClientProcess, benchCoreEnv, machine, sourceVersion, startProfiler, writeResults } from '../bench-common.js';
import { collectGarbage, fdLimits, fmt, perItem, settledMemory, sleep, stats, waitUntil } from './measure.js';
import { OPEN_IN_FLIGHT, ROUND_TIMEOUT_MS, SUMMARY_QUERY, type FromClient, type Kind, type ToClient } from './protocol.js';

const GOAL_RATIO = 2;
const WARMUP = 3; // untimed rounds per N, both kinds
const PAUSE_MS = 300; // between measurements; longer than any summary push interval used here
const SUMMARY_PUSH_MS = '0'; // no coalescing delay: one push per change
const AGENT_ID = 'bench-fanout-0001';

/** FanoutArgs is one run's settings, from the command line. */
export interface FanoutArgs {
  /** The numbers of subscribers N, one measurement each. */
  sizes: number[];
  /** Timed changes per N. */
  changes: number;
  /** Write a CPU profile of this process per timed change and broadcast into this directory. */
  profileDir: string | null;
}

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

/** runFanoutBench runs the benchmark and writes its result files; command is the command line recorded in them. */
export async function runFanoutBench(args: FanoutArgs, command: string): Promise<void> {
  const started = new Date();
  const loadAtStart = loadavg();
  const host = machine();
  const log = (s: string) => process.stdout.write(`${s}\n`);

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
  const { loadConfig } = await import('../../src/config.js');
  const { startCore } = await import('../../src/main.js');
  const { issueToken } = await import('../../src/server/auth.js');
  const { factsFor } = await import('../../test/support/seed.js');

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
    clients = new BenchClientProcess<ToClient, FromClient>(fork(fileURLToPath(new URL('./client.ts', import.meta.url)), [], { execArgv: childArgv, stdio: 'inherit' }));
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

  const written = writeResults(join(dirname(fileURLToPath(import.meta.url)), '..'), 'fanout', (result as { database: string }).database, result, args.profileDir);
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
