// The gateway benchmark's runner: the core and the bare server in this process, the load in a
// child (client.ts); interleaved timed runs per mode, the figures, the result files. See
// bench/gateway.bench.ts for what is measured and how.
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCoreEnv, ClientProcess as BenchClientProcess, machine, sourceVersion, startProfiler, writeResults } from '../bench-common.js';
import type { CoreHandle } from '../../src/main.js';
import { insertRecorder, startBareServer } from './bare-server.js';
import { setUpDevices } from './devices.js';
import { explainUsedDatabase, localPostgresDatabase, postgresCpuMs, uncommittedSrc } from './host.js';
import { AGENT_VERSION, ALL_MODES, CONNECT_PATH, REQUEST_TIMEOUT_MS, type FromClient, type Mode, type RunReport, type Target, type ToClient } from './protocol.js';
import { fmt, markdownTable, modeLine, pct, summariseMode, type GatewayBenchResult, type RunFigures } from './results.js';

const PAUSE_MS = 200; // between runs

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

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/**
 * runGatewayBench runs the whole benchmark IN THE CALLER'S PROCESS (the core and the bare server run
 * here; it forks the load child itself) and resolves with the result; it writes the result files
 * only with `write: true`.
 */
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

  const { max } = await import('drizzle-orm');
  const { loadConfig, redactUrl } = await import('../../src/config.js');
  const { startCore } = await import('../../src/main.js');
  const { connectionResults } = await import('../../src/db/schema.js');
  const command =
    opts.command ??
    `${databaseUrl ? `DATABASE_URL=${redactUrl(databaseUrl)} ` : ''}npx tsx bench/gateway.bench.ts (runGatewayBench ${JSON.stringify({ quick, devices: nDevices, concurrency, durationMs, rounds, modes })})`;

  const dataDir = mkdtempSync(join(tmpdir(), 'certfleet-gateway-'));
  let core: CoreHandle | undefined;
  let bare: HttpsServer | undefined;
  let bareInsert: HttpsServer | undefined;
  let recorder: Awaited<ReturnType<typeof insertRecorder>> | undefined;
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
      throw explainUsedDatabase(err, databaseUrl);
    }
    const c = core;
    const database = c.database.kind === 'postgres' ? `PostgreSQL (${redactUrl(databaseUrl!)})` : 'embedded (PGlite, temp DATA_DIR)';
    const pgDatabase = localPostgresDatabase(c.database.kind, databaseUrl);
    const maxResultId = async () => {
      const [row] = await c.database.db.select({ id: max(connectionResults.id) }).from(connectionResults);
      return Number(row?.id ?? 0);
    };

    const bareServer = await startBareServer(c.authority);
    bare = bareServer.server;
    const barePort = bareServer.port;
    // The fairer kept-alive baseline: the same bare server, recording each result with one INSERT
    // through postgres.js into a scratch table of its own in the benchmark's database.
    let bareInsertPort: number | null = null;
    const insertBaseline = c.database.kind === 'postgres' && modes.includes('keepalive');
    if (insertBaseline) {
      recorder = await insertRecorder(databaseUrl!);
      const s = await startBareServer(c.authority, recorder.record);
      bareInsert = s.server;
      bareInsertPort = s.port;
    }
    const portOf = (target: Target) => (target === 'certfleet' ? c.agentPort : target === 'bare' ? barePort : bareInsertPort!);
    const targetsFor = (mode: Mode): Target[] => (mode === 'keepalive' && insertBaseline ? ['certfleet', 'bare', 'bareInsert'] : ['certfleet', 'bare']);

    const childArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--inspect'));
    clients = new BenchClientProcess<ToClient, FromClient>(fork(fileURLToPath(new URL('./client.ts', import.meta.url)), [], { execArgv: childArgv, stdio: 'inherit' }));
    const cp = clients;
    await cp.waitFor((m) => m.op === 'ready', 30_000, 'the client process to start');

    log(`certfleet agent gateway benchmark: ${nDevices} devices, ${concurrency} concurrent clients, runs of ${durationMs / 1000} s, ${rounds} rounds, modes ${modes.join(', ')}`);
    log(`database: ${database}; clients in a child process (pid ${cp.child.pid})`);
    if (insertBaseline) log(`kept-alive baseline with one INSERT per result: table ${recorder!.table} in the benchmark's database (dropped at the end)`);
    else if (c.database.kind !== 'postgres' && modes.includes('keepalive')) {
      log('kept-alive baseline with one INSERT per result (postgres.js): skipped on the embedded database; it needs PostgreSQL (set DATABASE_URL)');
    }
    log(`machine: ${host.nproc} CPUs (${host.cpuModel}), Node ${host.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    const { enrollMs, approveMs, statuses } = await setUpDevices(c, cp, nDevices);
    log(`setup: ${nDevices} devices enrolled in ${fmt(enrollMs)} ms, approved in ${fmt(approveMs)} ms; one connect() each with the real agent client: ${JSON.stringify(statuses)}`);

    // --- Runs
    let runId = 0;
    let profileIndex = 0;
    const runs: RunFigures[] = [];
    async function measure(target: Target, mode: Mode, round: number, ms: number, minRequests = 0): Promise<RunFigures> {
      const id = ++runId;
      const before = target === 'certfleet' ? await maxResultId() : target === 'bareInsert' ? await recorder!.maxId() : 0;
      const load = loadavg()[0]!;
      // Reading /proc for PostgreSQL's CPU is kept out of this process's measured CPU and its profile.
      const pg0 = pgDatabase !== null ? postgresCpuMs(pgDatabase) : null;
      const profiler = profileDir && round > 0 ? await startProfiler(100) : null;
      statements = 0;
      historyInserts = 0;
      const cpu0 = process.cpuUsage();
      cp.send({ op: 'run', id, target, port: portOf(target), mode, concurrency, durationMs: ms, minRequests });
      const r = await cp.waitFor<RunReport>((m) => m.op === 'ran' && m.id === id, ms + 2 * REQUEST_TIMEOUT_MS + 30_000 + 100 * minRequests, `${target} ${mode} run`);
      const cpu = process.cpuUsage(cpu0);
      const stmts = statements;
      const inserts = historyInserts;
      if (profiler) await profiler.stop(join(profileDir!, `${target}-${mode}-${String(++profileIndex).padStart(3, '0')}.cpuprofile`));
      const pg1 = pg0 !== null ? postgresCpuMs(pgDatabase!) : null;
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
      } else if (target === 'bareInsert') {
        const recorded = (await recorder!.maxId()) - before;
        if (recorded < r.ok) throw new Error(`bareInsert: ${r.ok} connects were answered 200 but only ${recorded} rows were inserted`);
        f.resultsRecorded = recorded;
      }
      return f;
    }

    log('');
    log('warm-up (not recorded)');
    for (const mode of modes) {
      for (const target of targetsFor(mode)) {
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
        const order: Target[] = round % 2 === 1 ? targetsFor(mode) : targetsFor(mode).reverse();
        const got: Partial<Record<Target, RunFigures>> = {};
        for (const target of order) {
          got[target] = await measure(target, mode, round, durationMs);
          runs.push(got[target]!);
          await sleep(PAUSE_MS);
        }
        line.push(
          `${mode} ${fmt(got.certfleet!.rate)} / ${fmt(got.bare!.rate)} (${(got.certfleet!.rate / got.bare!.rate).toFixed(2)})` +
            (got.bareInsert ? `, bare + INSERT ${fmt(got.bareInsert.rate)} (${(got.certfleet!.rate / got.bareInsert.rate).toFixed(2)})` : ''),
        );
        const busy = (f: RunFigures) => `server ${pct(f.serverCpuMs / f.elapsedMs)}, client ${pct(f.clientCpuMs / f.elapsedMs)}`;
        busyLines.push(
          `    ${mode}: CPU busy certfleet run ${busy(got.certfleet!)}; bare run ${busy(got.bare!)}` + (got.bareInsert ? `; bare + INSERT run ${busy(got.bareInsert)}` : ''),
        );
      }
      log(`round ${round}/${rounds} (load ${loadavg()[0]!.toFixed(2)}), certfleet / bare req/s: ${line.join('; ')}`);
      for (const l of busyLines) log(l);
    }

    const modeResults = modes.map((mode) => summariseMode(mode, runs));

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
        interleaved: 'per round and mode: certfleet, bare (, bareInsert in keepalive) on odd rounds, the reverse on even rounds',
        rate: 'answers 200 AUTHENTICATION_SUCCEEDED / (first request to last answer)',
        clients: 'child process; one https.Agent per server and mode, kept across runs; one TLS secure context per device',
        bare: 'node:https, requestCert + rejectUnauthorized, same CA, same session ticket / timeout / keep-alive settings as the gateway; reads and parses the body, answers 200 with a 51-byte JSON body',
        bareInsert: insertBaseline
          ? `keepalive only: the bare server, answering after one parameterised INSERT per result through postgres.js (default pool) into ${recorder!.table} (agent_id, at, source, result, failure_reason, remote_address; identity key, index on (agent_id, id desc)), a scratch table created at the start and dropped at the end`
          : 'skipped: needs PostgreSQL',
      },
      profiled: profileDir !== null,
      setup: { devices: nDevices, enrollMs, approveMs, verifyStatuses: statuses },
      modes: modeResults,
      runs,
    };

    log('');
    for (const m of modeResults) log(modeLine(m));

    if (opts.write) {
      const written = writeResults(join(dirname(fileURLToPath(import.meta.url)), '..'), 'gateway', result.database, result, profileDir);
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
    if (bareInsert) {
      bareInsert.closeAllConnections();
      await new Promise<void>((ok) => bareInsert!.close(() => ok()));
    }
    await recorder?.drop().catch((err: Error) => log(`could not drop ${recorder!.table}: ${err.message}`));
    await core?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
