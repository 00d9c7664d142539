// The fan-out benchmark's runner: the core in this process, the bare WebSocketServer in a child of
// its own (bare-server.ts), the client sockets in further children (client.ts); per N, memory,
// warm-up and interleaved timed changes, then the result files and the table. See
// bench/fanout.bench.ts for what is measured and how.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { redactUrl } from '../../src/config.js';
import type { CoreHandle } from '../../src/main.js';
import { ClientProcess as BenchClientProcess, benchCoreEnv, machine, sourceVersion, startProfiler, writeResults } from '../bench-common.js';
import { collectGarbage, FD_HEADROOM, fdLimits, fmt, perItem, settledMemory, sleep, stats, waitUntil, type Mem } from './measure.js';
import {
  OPEN_IN_FLIGHT,
  ROUND_TIMEOUT_MS,
  SUMMARY_QUERY,
  type FromBare,
  type FromClient,
  type Kind,
  type ToBare,
  type ToClient,
} from './protocol.js';

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
  /** Client processes to spread the sockets over (default: as few as the open-file limit allows, at least 2). */
  clientProcesses?: number;
  /** Write a heap snapshot of this process before and after opening the N subscribers, into this directory. */
  heapSnapshotDir?: string | null;
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

  // Each process holds its own sockets only: this one the N certfleet subscribers, the bare server's
  // child N bare sockets, and the client children 2N sockets between them.
  const maxN = Math.max(...args.sizes);
  const needFds = maxN + FD_HEADROOM;
  const limits = fdLimits();
  if (limits && limits.soft < needFds) {
    throw new Error(
      `open-file limit too low: ulimit -n is ${limits.soft}, the certfleet process needs about ${needFds} ` +
        `(${maxN} sockets + ${FD_HEADROOM} for files). Node cannot raise its own limit: run \`ulimit -n ${Math.min(needFds, limits.hard)}\` ` +
        `in the shell first${limits.hard < needFds ? ` (the hard limit, ${limits.hard}, is too low as well: use fewer subscribers)` : ''}.`,
    );
  }
  const perClientProcess = (limits?.soft ?? 20_000) - FD_HEADROOM;
  const clientCount = Math.min(maxN, Math.max(args.clientProcesses ?? 2, Math.ceil((2 * maxN) / perClientProcess)));
  if (Math.ceil((2 * maxN) / clientCount) > perClientProcess) {
    throw new Error(`${clientCount} client processes cannot hold ${2 * maxN} sockets under an open-file limit of ${limits?.soft}: use more (--client-processes)`);
  }

  const gc = collectGarbage();
  const { loadConfig } = await import('../../src/config.js');
  const { startCore } = await import('../../src/main.js');
  const { issueToken } = await import('../../src/server/auth.js');
  const { factsFor } = await import('../../test/support/seed.js');

  const dataDir = mkdtempSync(join(tmpdir(), 'certfleet-fanout-'));
  let core: CoreHandle | undefined;
  let bare: BenchClientProcess<ToBare, FromBare> | undefined;
  const clients: BenchClientProcess<ToClient, FromClient>[] = [];
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

    // The children get node's flags (tsx's loader) but not the profiler's or the inspector's.
    const childArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--inspect'));
    const forkChild = (file: string) => fork(fileURLToPath(new URL(file, import.meta.url)), [], { execArgv: childArgv, stdio: 'inherit' });
    bare = new BenchClientProcess<ToBare, FromBare>(forkChild('./bare-server.ts'));
    const b = bare;
    for (let i = 0; i < clientCount; i++) clients.push(new BenchClientProcess<ToClient, FromClient>(forkChild('./client.ts')));
    const bareUrl = (await b.waitFor<Extract<FromBare, { op: 'ready' }>>((m) => m.op === 'ready', 30_000, 'the bare server to start')).url;
    await Promise.all(clients.map((cp) => cp.waitFor((m) => m.op === 'ready', 30_000, 'a client process to start')));
    const bareAsk = async <T extends FromBare>(m: ToBare, op: FromBare['op'], timeoutMs = 30_000): Promise<T> => {
      const reply = b.waitFor<T>((x) => x.op === op, timeoutMs, `the bare server to answer ${m.op}`);
      b.send(m);
      return reply;
    };
    const bareCount = async () => (await bareAsk<Extract<FromBare, { op: 'count' }>>({ op: 'count' }, 'count')).n;
    const bareMemory = async () => (await bareAsk<Extract<FromBare, { op: 'memory' }>>({ op: 'memory' }, 'memory')).mem;

    log(`certfleet subscription fan-out benchmark: N = ${args.sizes.join(', ')} subscribers, ${args.changes} changes each`);
    log(
      `database: ${database}; SUMMARY_PUSH_MS=${SUMMARY_PUSH_MS}; certfleet in this process (pid ${process.pid}), ` +
        `the bare server in its own (pid ${b.child.pid}), clients in ${clientCount} (pids ${clients.map((cp) => cp.child.pid).join(', ')})`,
    );
    log(`machine: ${host.nproc} CPUs (${host.cpuModel}), Node ${host.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    log(
      `open-file limit: ${limits ? `${limits.soft} (hard ${limits.hard})` : 'unknown'} per process; the certfleet process needs about ${needFds}, ` +
        `each client process about ${Math.ceil((2 * maxN) / clientCount) + FD_HEADROOM}`,
    );

    /** The clients' share of n sockets: as even as can be, one process after another. */
    const share = (n: number, i: number) => Math.floor(n / clientCount) + (i < n % clientCount ? 1 : 0);
    const active = (n: number) => clients.filter((_, i) => share(n, i) > 0);

    /** openAll opens n sockets of a kind over the client processes; the slowest process's time counts. */
    async function openAll(kind: Kind, n: number, url: string) {
      const opened = await Promise.all(
        clients.map((cp, i) => {
          const k = share(n, i);
          if (k === 0) return { n: 0, ms: 0, firstBytes: 0 };
          const reply = cp.waitFor<Extract<FromClient, { op: 'opened' }>>(
            (m) => m.op === 'opened' && m.kind === kind,
            Math.max(60_000, n * 30),
            `${k} ${kind} sockets to open`,
          );
          cp.send({ op: 'open', kind, n: k, url, token: kind === 'certfleet' ? token : undefined, inFlight: Math.ceil(OPEN_IN_FLIGHT / clientCount) });
          return reply;
        }),
      );
      return { n: opened.reduce((x, o) => x + o.n, 0), ms: Math.max(...opened.map((o) => o.ms)), firstBytes: Math.max(...opened.map((o) => o.firstBytes)) };
    }

    /** armAll arms every client process for a round and returns the wait for all of them to have it. */
    async function armAll(kind: Kind, n: number, r: number, expect: Extract<ToClient, { op: 'arm' }>['expect']) {
      const procs = active(n);
      const armed = procs.map((cp) => cp.waitFor((m) => m.op === 'armed' && m.round === r, 10_000, 'a client to arm'));
      for (const cp of procs) cp.send({ op: 'arm', kind, round: r, expect });
      await Promise.all(armed);
      const done = Promise.all(
        procs.map((cp) =>
          cp.waitFor<Extract<FromClient, { op: 'done' }>>((m) => m.op === 'done' && m.round === r, ROUND_TIMEOUT_MS, `all ${n} ${kind} sockets to receive round ${r}`),
        ),
      ).then((all) => ({
        first: all.map((d) => BigInt(d.first)).reduce((x, y) => (y < x ? y : x)),
        last: all.map((d) => BigInt(d.last)).reduce((x, y) => (y > x ? y : x)),
        bytes: all[0]!.bytes,
        stray: all.reduce((x, d) => x + d.stray, 0),
      }));
      done.catch(() => {});
      return { done }; // wrapped: an async function's returned promise would be awaited with it
    }

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
      const { done } = await armAll('certfleet', n, r, expect);
      const facts = factsFor(kind, AGENT_ID);
      const t0 = process.hrtime.bigint();
      const recorded = await c.services.connections.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId: AGENT_ID, ...facts });
      const t1 = process.hrtime.bigint();
      const want = kind === 'succeeded' ? 'AUTHENTICATION_SUCCEEDED' : 'AUTHENTICATION_FAILED';
      if (recorded.device.authStatus !== want) throw new Error(`the change recorded ${recorded.device.authStatus}, expected ${want}`);
      nextKind = kind === 'succeeded' ? 'revoked' : 'succeeded';
      const d = await done;
      const ms = (t: bigint) => Number(t - t0) / 1e6;
      return { totalMs: ms(d.last), firstMs: ms(d.first), localMs: ms(t1), bytes: d.bytes, stray: d.stray };
    }

    /** One same-size message to every bare socket, timed until every one has it. */
    async function bareBroadcast(n: number, bytes: number): Promise<Sample> {
      const r = ++round;
      const { done } = await armAll('bare', n, r, { seq: r });
      const sent = await bareAsk<Extract<FromBare, { op: 'sent' }>>({ op: 'broadcast', round: r, bytes }, 'sent');
      if (sent.round !== r || sent.n !== n) throw new Error(`the bare server sent round ${sent.round} to ${sent.n} sockets, expected round ${r} to ${n}`);
      const d = await done;
      const t0 = BigInt(sent.start);
      const ms = (t: bigint) => Number(t - t0) / 1e6;
      return { totalMs: ms(d.last), firstMs: ms(d.first), localMs: ms(BigInt(sent.end)), bytes: d.bytes, stray: d.stray };
    }

    const snapshot = (name: string) => {
      if (!args.heapSnapshotDir) return;
      mkdirSync(args.heapSnapshotDir, { recursive: true });
      const file = writeHeapSnapshot(join(args.heapSnapshotDir, name));
      log(`  heap snapshot: ${file}`);
    };

    const sizes = [];
    for (const n of args.sizes) {
      log('');
      log(`N = ${n}`);
      const m0 = await settledMemory(gc);
      snapshot(`fanout-${n}-before.heapsnapshot`);
      const openedCf = await openAll('certfleet', n, wsUrl);
      await waitUntil(() => c.live.subscriberCount() === n, 10_000, `the core to count ${n} subscribers`);
      const m1 = await settledMemory(gc);
      snapshot(`fanout-${n}-idle.heapsnapshot`);
      log(`  ${n} graphql-ws subscribers open and past their first summary in ${fmt(openedCf.ms)} ms (first message ${openedCf.firstBytes} B)`);

      const b0: Mem = await bareMemory();
      const openedBare = await openAll('bare', n, bareUrl);
      for (let t = 0; (await bareCount()) !== n; t++) {
        if (t > 500) throw new Error(`the bare server does not count ${n} sockets`);
        await sleep(20);
      }
      const b1: Mem = await bareMemory();
      log(`  ${n} bare sockets open in ${fmt(openedBare.ms)} ms`);

      const memory = {
        before: m0,
        withSubscribers: m1,
        bareBefore: b0,
        bareWithSockets: b1,
        perCertfleetSubscriber: perItem(m1, m0, n),
        perBareSocket: perItem(b1, b0, n),
      };
      log(
        `  server memory per idle subscriber: heap ${fmt(memory.perCertfleetSubscriber.heapUsed)} B, RSS ${fmt(memory.perCertfleetSubscriber.rss)} B` +
          ` (bare socket, in its own process: heap ${fmt(memory.perBareSocket.heapUsed)} B, RSS ${fmt(memory.perBareSocket.rss)} B)`,
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

      const closed = await Promise.all(
        clients.flatMap((cp) =>
          (['certfleet', 'bare'] as const).map((kind) => {
            const reply = cp.waitFor<Extract<FromClient, { op: 'closed' }>>((m) => m.op === 'closed' && m.kind === kind, 60_000, `${kind} sockets to close`);
            cp.send({ op: 'close', kind });
            return reply;
          }),
        ),
      );
      if (closed.some((x) => x.unexpectedCloses > 0)) throw new Error('some sockets closed unexpectedly during the run');
      await waitUntil(() => c.live.subscriberCount() === 0, 30_000, 'the core to drop every subscriber');
      for (let t = 0; (await bareCount()) !== 0; t++) {
        if (t > 1500) throw new Error('the bare server does not drop its sockets');
        await sleep(20);
      }
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
        processes: `certfleet in the runner; the bare ws server in a child of its own; the client sockets in ${clientCount} children, split evenly`,
        clientProcesses: clientCount,
        clients: 'one WebSocket per subscriber, hand-rolled graphql-transport-ws',
        p99: 'nearest rank; with 10 samples it is the largest',
      },
      profiled: args.profileDir !== null,
      sizes,
    };
  } finally {
    await Promise.all(clients.map((cp) => cp.stop().catch(() => {})));
    await bare?.stop().catch(() => {});
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
