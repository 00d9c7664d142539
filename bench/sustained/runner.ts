// The sustained check-in benchmark's runner: certfleet's core in this process, the bare https
// baseline in a child of its own (bare-child.ts), the open-loop load in G children
// (bench/gateway/client.ts); the step search (search.ts) run for both servers, interleaved step by
// step; the result file. See bench/sustained.bench.ts for what is measured and how.
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCoreEnv, ClientProcess, machine, sourceVersion, startProfiler, writeResults } from '../bench-common.js';
import { explainUsedDatabase, localPostgresDatabase, postgresCpuMs } from '../gateway/host.js';
import type { CoreHandle } from '../../src/main.js';
import { setUpDevices } from '../gateway/devices.js';
import type { FromClient, OpenLoopReply, RunReport, ToClient } from '../gateway/protocol.js';
import type { FromBare, ToBare } from './bare-child.js';
import { budgetCall, HOLD_CRITERIA, judgeStep, percentile, RateSearch, type Phase, type SearchSettings } from './search.js';

/** certfleet's sustained rate over the bare server's (issue 14). */
export const GOAL_SUSTAINED_RATIO = 0.8;
/** A device checks in every 15 minutes: a rate held serves rate × this many devices. */
export const CHECK_IN_SECONDS = 900;
/** The benchmark's devices' agent ids start with this (the suite runs it beside a seeded fleet). */
const AGENT_PREFIX = 'bench-sus-';
/** A failed step whose load started requests later than this at p99 may have been limited by the load, not the server. */
export const LATE_START_MS = 100;

export type SustainedTarget = 'certfleet' | 'bare';

export interface SustainedOptions {
  quick?: boolean;
  /** Load processes (each with devicesPerGenerator devices of its own). */
  generators?: number;
  devicesPerGenerator?: number;
  /** Coarse and bisection steps. */
  stepMs?: number;
  /** The confirming hold. */
  holdMs?: number;
  /** The whole search (both servers, after setup) stops within this. */
  budgetMs?: number;
  search?: Partial<SearchSettings>;
  databaseUrl?: string;
  log?: (line: string) => void;
  write?: boolean;
  command?: string;
  /** Write a CPU profile of the core's process (this one) for each of certfleet's steps (confirming holds and search steps) into this directory. */
  profileDir?: string | null;
  /** Settings for certfleet's core on top of the benchmark's own (e.g. CONNECTION_HISTORY_PER_DEVICE), to compare one change. */
  coreEnv?: Record<string, string>;
  /**
   * Start every device at its history cap (CONNECTION_HISTORY_PER_DEVICE results each, spread over
   * the hour before the search), as a fleet is after about a day of check-ins, so that every result
   * of the search pays the per-device cap from the first step.
   */
  historyAtCap?: boolean;
}

export interface StepRecord {
  target: SustainedTarget;
  phase: Phase;
  offeredRate: number;
  durationMs: number;
  held: boolean;
  reasons: string[];
  achievedRate: number;
  started: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  aborted: string | null;
  abandoned: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  sessionReusedShare: number;
  /** Worst over the load processes: how late requests were started (p99 and max), ms. */
  generatorStartLagMs: { p99: number; max: number };
  maxInFlight: number;
  /** CPU time of the server's process / the step's wall time (above 1 when threads add up). */
  serverCpuShare: number;
  /** The busiest load process's CPU time / the step's wall time. */
  generatorCpuShare: number;
  /** The latest load process started this much after the common start (its message came late), ms. */
  generatorStartShiftMs: number;
  /** certfleet: rise of max(connection_results.id) over the step. */
  resultsRecorded?: number;
  /** The server process's read and write system calls (sockets included) per answer OK, from /proc/PID/io; null where that is not readable. */
  serverSyscallsPerAnswer?: { reads: number; writes: number } | null;
  /** certfleet: SQL statements its code sent (drizzle's; not postgres.js's BEGIN/COMMIT) per answer OK. */
  statementsPerAnswer?: number;
  /** certfleet: results per group-commit transaction over the step (from its metrics). */
  meanGroupCommitBatch?: number | null;
  /** certfleet on a local PostgreSQL: CPU time of the database's backends / the step's wall time. */
  postgresCpuShare?: number | null;
  /** certfleet: devices whose history_count had reached the per-device cap when the step started (each result then pays the cap). */
  devicesAtHistoryCap?: number;
  loadAverage1m: number;
}

export interface ServerSummary {
  /** The highest rate held for the long window; if none was, the highest held in a short step (heldMs says which). */
  rate: number;
  heldMs: number;
  confirmed: boolean;
  bestShortRate: number | null;
  note: string | null;
  /** rate × 900: devices served at one check-in every 15 minutes. */
  devicesAt15MinCheckIn: number;
  /** Failed steps in which the load processes started requests more than LATE_START_MS late at p99. */
  failedStepsWithLateLoad: number;
  failedSteps: number;
}

export interface SustainedBenchResult {
  benchmark: 'sustained check-in';
  date: string;
  seconds: number;
  command: string;
  database: 'embedded' | 'postgres';
  machine: ReturnType<typeof machine>;
  source: ReturnType<typeof sourceVersion>;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  settings: Record<string, unknown>;
  setup: { devices: number; enrollMs: number; approveMs: number };
  certfleet: ServerSummary;
  bare: ServerSummary;
  /** certfleet rate / bare rate. */
  ratio: number;
  goal: { ratioAtLeast: number; met: boolean };
  steps: StepRecord[];
}

/** syscallsOf reads a process's system call counts from /proc/PID/io (Linux; null elsewhere or when not readable). */
function syscallsOf(pid: number | undefined): { reads: number; writes: number } | null {
  if (pid === undefined) return null;
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (k: string) => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
    const r = { reads: field('syscr'), writes: field('syscw') };
    return Number.isFinite(r.reads) && Number.isFinite(r.writes) ? r : null;
  } catch {
    return null;
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** runSustainedBench runs the benchmark (the core in THIS process) and resolves with its result; it writes files only with `write: true`. */
export async function runSustainedBench(opts: SustainedOptions = {}): Promise<SustainedBenchResult> {
  const quick = opts.quick ?? false;
  const generators = opts.generators ?? 2;
  const perGenerator = opts.devicesPerGenerator ?? (quick ? 16 : 200);
  const stepMs = opts.stepMs ?? (quick ? 2_000 : 5_000);
  const holdMs = opts.holdMs ?? (quick ? 2_000 : 60_000);
  const budgetMs = opts.budgetMs ?? (quick ? 16_000 : 400_000);
  const pauseMs = quick ? 300 : 2_000;
  // After a step that failed, long enough for the server to finish what the load abandoned.
  const failPauseMs = quick ? 800 : 5_000;
  const timeoutMs = 5_000;
  const search: SearchSettings = {
    startRate: 100,
    factor: quick ? 2 : 1.5,
    minRate: 10,
    maxRate: 5_000,
    refineRatio: quick ? 1.5 : 1.1,
    maxRefineSteps: quick ? 1 : 3,
    stepDown: quick ? 0.8 : 0.9,
    maxConfirmTries: quick ? 1 : 3,
    ...opts.search,
  };
  const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const started = new Date();
  const loadAtStart = loadavg();
  const host = machine();

  const { and, count, gte, like, max, sql } = await import('drizzle-orm');
  const { loadConfig, redactUrl } = await import('../../src/config.js');
  const { startCore } = await import('../../src/main.js');
  const { connectionResults, devices } = await import('../../src/db/schema.js');
  const command = opts.command ?? `${databaseUrl ? `DATABASE_URL=${redactUrl(databaseUrl)} ` : ''}npx tsx bench/sustained.bench.ts${quick ? ' --quick' : ''}`;

  const dataDir = mkdtempSync(join(tmpdir(), 'certfleet-sustained-'));
  let core: CoreHandle | undefined;
  let bare: ClientProcess<ToBare, FromBare> | undefined;
  const gens: ClientProcess<ToClient, FromClient>[] = [];
  try {
    const config = loadConfig(benchCoreEnv(dataDir, databaseUrl, { METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', ...opts.coreEnv }));
    // Statements sent (drizzle's logger sees every statement it runs; postgres.js's own BEGIN and
    // COMMIT are not among them).
    let statementTotal = 0;
    core = await startCore(config, { onQuery: () => void statementTotal++ }).catch((err: unknown) => {
      throw explainUsedDatabase(err, databaseUrl);
    });
    const groupCommits = async () => {
      if (!c.metricsUrl) return null;
      const text = await (await fetch(c.metricsUrl)).text();
      const v = (k: string) => Number(new RegExp(`^certfleet_group_commit_batch_size_${k} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { results: v('sum'), batches: v('count') };
    };
    const c = core;
    const maxResultId = async () => {
      const [row] = await c.database.db.select({ id: max(connectionResults.id) }).from(connectionResults);
      return Number(row?.id ?? 0);
    };
    const keep = config.connectionHistoryPerDevice;
    const devicesAtCap = async () => {
      // The benchmark's devices only (the suite runs it on a seeded fleet of a million).
      const [row] = await c.database.db
        .select({ n: count() })
        .from(devices)
        .where(and(like(devices.agentId, `${AGENT_PREFIX}%`), gte(devices.historyCount, keep)));
      return Number(row?.n ?? 0);
    };
    const pgDatabase = localPostgresDatabase(c.database.kind, databaseUrl);
    const profileDir = opts.profileDir ?? null;
    let profileIndex = 0;
    const childArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--inspect'));
    bare = new ClientProcess<ToBare, FromBare>(fork(fileURLToPath(new URL('./bare-child.ts', import.meta.url)), [], { execArgv: childArgv, stdio: 'inherit' }));
    for (let g = 0; g < generators; g++) {
      gens.push(new ClientProcess<ToClient, FromClient>(fork(fileURLToPath(new URL('../gateway/client.ts', import.meta.url)), [], { execArgv: childArgv, stdio: 'inherit' })));
    }
    const b = bare;
    await b.waitFor((m) => m.op === 'ready', 30_000, 'the bare server process to start');
    b.send({ op: 'start', caCertificatePem: c.authority.certificatePem, caKeyPem: c.authority.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const { port: barePort } = await b.waitFor<Extract<FromBare, { op: 'listening' }>>((m) => m.op === 'listening', 30_000, 'the bare server to listen');
    await Promise.all(gens.map((cp) => cp.waitFor((m) => m.op === 'ready', 30_000, 'a load process to start')));
    const portOf = (t: SustainedTarget) => (t === 'certfleet' ? c.agentPort : barePort);

    log(
      `certfleet sustained check-in benchmark (${quick ? 'quick' : 'full'}): open-loop load on resumed TLS sessions from ${generators} load processes ` +
        `(${generators * perGenerator} devices), steps of ${stepMs / 1000} s, confirming holds of ${holdMs / 1000} s, search budget ${budgetMs / 1000} s`,
    );
    log(
      `database: ${c.database.kind === 'postgres' ? `PostgreSQL (${redactUrl(databaseUrl!)})` : 'embedded (PGlite, temp DATA_DIR)'}; processes: certfleet core ${process.pid}, ` +
        `bare server ${b.child.pid}, load ${gens.map((g) => g.child.pid).join(', ')}; machine: ${host.nproc} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    );

    const setups = await Promise.all(gens.map((cp, g) => setUpDevices(c, cp, perGenerator, `${AGENT_PREFIX}${g}-`)));
    const setup = { devices: generators * perGenerator, enrollMs: Math.max(...setups.map((s) => s.enrollMs)), approveMs: Math.max(...setups.map((s) => s.approveMs)) };
    log(`setup: ${setup.devices} devices enrolled and approved, one connect() each with the real agent client (${fmt((Date.now() - started.getTime()) / 1000, 1)} s since the start)`);

    if (opts.historyAtCap) {
      const t = performance.now();
      await c.database.db.execute(sql`
        insert into connection_results (device_id, at, source, result, failure_reason, agent_version, remote_address)
        select d.id, now() - interval '1 hour' + j * interval '1 second', 'SECURE_CONNECTION', 'AUTHENTICATION_SUCCEEDED', null, '2024.3', '10.0.0.1'
        from devices d, generate_series(1, ${keep}::int) j
        where d.agent_id like ${`${AGENT_PREFIX}%`}
        order by j, d.id`);
      // Exact, in the current history epoch (drizzle/0012), as a group commit would leave them.
      await c.database.db.execute(sql`
        update devices d set history_count = (select count(*) from connection_results c where c.device_id = d.id),
          history_count_epoch = (select history_epoch from core_settings where id = 1)
        where d.agent_id like ${`${AGENT_PREFIX}%`}`);
      log(`history: every device at its cap of ${keep} (${fmt(keep * setup.devices)} rows added in ${fmt((performance.now() - t) / 1000, 1)} s)`);
    }

    // Warm-up (not recorded): closed loop, at least two connects per device and server, so every
    // device has a TLS session to resume with each and both servers' code is warm.
    let runId = 0;
    for (const target of ['certfleet', 'bare'] as const) {
      const reports = await Promise.all(
        gens.map((cp) => {
          const id = ++runId;
          cp.send({ op: 'run', id, target, port: portOf(target), mode: 'resumed', concurrency: 8, durationMs: quick ? 300 : 1_500, minRequests: 2 * perGenerator });
          return cp.waitFor<RunReport>((m) => m.op === 'ran' && m.id === id, 120_000, `${target} warm-up`);
        }),
      );
      const bad = reports.find((r) => r.errors > 0);
      if (bad) throw new Error(`${target} warm-up: ${bad.errors} request(s) failed, e.g. ${bad.errorSamples.join(' | ')}`);
      log(`warm-up ${target}: ${reports.reduce((a, r) => a + r.ok, 0)} connects`);
    }

    const bareCpuMs = async () => {
      b.send({ op: 'cpu' });
      return (await b.waitFor<Extract<FromBare, { op: 'cpu' }>>((m) => m.op === 'cpu', 10_000, 'the bare server CPU')).ms;
    };
    const steps: StepRecord[] = [];
    async function step(target: SustainedTarget, phase: Phase, rate: number, durationMs: number): Promise<StepRecord> {
      const before = target === 'certfleet' ? await maxResultId() : 0;
      const atCap = target === 'certfleet' ? await devicesAtCap() : 0;
      const load = loadavg()[0]!;
      // Reading /proc for PostgreSQL's CPU is kept out of the process CPU measured and out of the profile.
      const pg0 = target === 'certfleet' && pgDatabase !== null ? postgresCpuMs(pgDatabase) : null;
      const profiler = target === 'certfleet' && profileDir ? await startProfiler(100) : null;
      const serverPid = target === 'certfleet' ? process.pid : b.child.pid;
      const st0 = statementTotal;
      const gc0 = target === 'certfleet' ? await groupCommits() : null;
      const sys0 = syscallsOf(serverPid);
      const cpu0 = target === 'certfleet' ? process.cpuUsage() : null;
      const bareCpu0 = target === 'bare' ? await bareCpuMs() : 0;
      const startAt = Date.now() + 300;
      const expected = (rate * durationMs) / 1000;
      const replies = await Promise.all(
        gens.map((cp, g) => {
          const id = ++runId;
          cp.send({
            op: 'openLoop',
            id,
            target,
            port: portOf(target),
            rate,
            durationMs,
            startAt,
            offset: g,
            stride: generators,
            allowanceMs: HOLD_CRITERIA.maxP99Ms,
            timeoutMs,
            maxInFlight: Math.ceil((2 * rate) / generators) + 32,
            // More slow answers than 1 % of the whole window's means p99 > the allowance, whatever else happens.
            maxSlow: Math.floor(0.01 * expected),
          });
          return cp.waitFor<OpenLoopReply>((m) => m.op === 'openLooped' && m.id === id, durationMs + timeoutMs + 60_000, `${target} step at ${rate}/s`);
        }),
      );
      // Shares of the step's wall time (a step stopped early is shorter than its window).
      const wallMs = Math.max(1, Date.now() - startAt);
      const serverCpuMs = cpu0 ? (() => {
        const u = process.cpuUsage(cpu0);
        return (u.user + u.system) / 1000;
      })() : (await bareCpuMs()) - bareCpu0;
      if (profiler) await profiler.stop(join(profileDir!, `certfleet-${phase}-${String(++profileIndex).padStart(3, '0')}-${rate}.cpuprofile`));
      const pg1 = pg0 !== null ? postgresCpuMs(pgDatabase!) : null;
      const sys1 = sys0 ? syscallsOf(serverPid) : null;
      const latencies = replies.flatMap((r) => r.latenciesMs).sort((x, y) => x - y);
      const sum = (f: (r: OpenLoopReply) => number) => replies.reduce((a, r) => a + f(r), 0);
      const outcome = {
        offeredRate: rate,
        durationMs,
        scheduled: Math.ceil(expected),
        ok: sum((r) => r.ok),
        okInWindow: sum((r) => r.okInWindow),
        errors: sum((r) => r.errors),
        aborted: replies.find((r) => r.aborted)?.aborted ?? null,
        latenciesMs: latencies,
      };
      const v = judgeStep(outcome);
      const rec: StepRecord = {
        target,
        phase,
        offeredRate: rate,
        durationMs,
        held: v.held,
        reasons: v.reasons,
        achievedRate: v.achievedRate,
        started: sum((r) => r.started),
        ok: outcome.ok,
        errors: outcome.errors,
        errorSamples: replies.flatMap((r) => r.errorSamples).slice(0, 5),
        aborted: outcome.aborted,
        abandoned: sum((r) => r.abandoned),
        latencyMs: { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p99: v.p99Ms, max: latencies.at(-1) ?? NaN },
        sessionReusedShare: outcome.ok > 0 ? sum((r) => r.reused) / outcome.ok : 0,
        generatorStartLagMs: { p99: Math.max(...replies.map((r) => r.startLagMs.p99)), max: Math.max(...replies.map((r) => r.startLagMs.max)) },
        maxInFlight: sum((r) => r.maxInFlight),
        serverCpuShare: serverCpuMs / wallMs,
        generatorCpuShare: Math.max(...replies.map((r) => r.clientCpuMs)) / wallMs,
        generatorStartShiftMs: Math.max(...replies.map((r) => r.startShiftMs)),
        loadAverage1m: load,
        serverSyscallsPerAnswer:
          sys0 && sys1 && outcome.ok > 0 ? { reads: (sys1.reads - sys0.reads) / outcome.ok, writes: (sys1.writes - sys0.writes) / outcome.ok } : null,
      };
      if (target === 'certfleet') {
        const gc1 = gc0 ? await groupCommits() : null;
        rec.statementsPerAnswer = rec.ok > 0 ? (statementTotal - st0) / rec.ok : NaN;
        rec.meanGroupCommitBatch = gc0 && gc1 && gc1.batches > gc0.batches ? (gc1.results - gc0.results) / (gc1.batches - gc0.batches) : null;
        rec.postgresCpuShare = pg0 !== null && pg1 !== null ? (pg1 - pg0) / wallMs : null;
        rec.devicesAtHistoryCap = atCap;
        rec.resultsRecorded = (await maxResultId()) - before;
        // Every 200 must stand for a committed result (abandoned requests may add more, never fewer).
        if (rec.resultsRecorded < rec.ok) throw new Error(`${rec.ok} connects were answered 200 but only ${rec.resultsRecorded} results were recorded`);
      }
      const lat = rec.latencyMs;
      log(
        `  ${target.padEnd(9)} ${phase.padEnd(7)} ${fmt(rate).padStart(5)}/s for ${fmt(durationMs / 1000)} s: ${rec.held ? 'held    ' : 'NOT held'} ` +
          `achieved ${fmt(rec.achievedRate)}/s, p50 ${fmt(lat.p50, 1)} p99 ${fmt(lat.p99, 1)} max ${fmt(lat.max)} ms, ${rec.errors} errors, ` +
          `resumed ${fmt(100 * rec.sessionReusedShare)} %, CPU server ${fmt(100 * rec.serverCpuShare)} %` +
          (rec.postgresCpuShare != null ? ` PostgreSQL ${fmt(100 * rec.postgresCpuShare)} %` : '') +
          ` load-max ${fmt(100 * rec.generatorCpuShare)} %, ` +
          (rec.devicesAtHistoryCap !== undefined ? `${rec.devicesAtHistoryCap} devices at the history cap, ` : '') +
          (rec.meanGroupCommitBatch != null ? `batch ${fmt(rec.meanGroupCommitBatch, 1)}, ` : '') +
          (rec.statementsPerAnswer !== undefined ? `statements/answer ${fmt(rec.statementsPerAnswer, 2)}, ` : '') +
          (rec.serverSyscallsPerAnswer ? `syscalls/answer r ${fmt(rec.serverSyscallsPerAnswer.reads, 1)} w ${fmt(rec.serverSyscallsPerAnswer.writes, 1)}, ` : '') +
          `start lag p99 ${fmt(rec.generatorStartLagMs.p99, 1)} ms${rec.generatorStartShiftMs > 0 ? `, started ${fmt(rec.generatorStartShiftMs)} ms late` : ''} (load ${load.toFixed(2)})` +
          (rec.held ? '' : ` — ${rec.reasons.join('; ')}`) +
          (rec.errorSamples.length ? ` e.g. ${rec.errorSamples[0]}` : ''),
      );
      steps.push(rec);
      return rec;
    }

    // The search: one step per server per round, the order flipping every round, so load that comes
    // and goes on a shared machine meets both alike. Short steps keep back time for the confirming holds.
    const searches: Record<SustainedTarget, RateSearch> = { certfleet: new RateSearch(search), bare: new RateSearch(search) };
    const t0 = performance.now();
    const overheadMs = quick ? 700 : 1_000;
    log(`search (${fmt((Date.now() - started.getTime()) / 1000, 1)} s since the start):`);
    for (let round = 0; !searches.certfleet.done || !searches.bare.done; round++) {
      const order: SustainedTarget[] = round % 2 === 0 ? ['certfleet', 'bare'] : ['bare', 'certfleet'];
      for (const target of order) {
        const s = searches[target];
        const next = s.next();
        if (!next) continue;
        const ms = next.phase === 'confirm' ? holdMs : stepMs;
        const call = budgetCall({
          phase: next.phase,
          elapsedMs: performance.now() - t0,
          budgetMs,
          stepCostMs: ms + failPauseMs + overheadMs,
          holdCostMs: holdMs + failPauseMs + overheadMs,
          othersRunning: (Object.keys(searches) as SustainedTarget[]).filter((t) => t !== target && !searches[t].done).length,
          heldSomething: s.bestShort !== null,
        });
        if (call === 'toConfirm') {
          s.skipToConfirm();
          continue;
        }
        if (call === 'stop') {
          s.stop(`the search budget of ${budgetMs / 1000} s ran out${next.phase === 'confirm' ? ' before a confirming hold' : s.bestShort === null ? ' with nothing held' : ''}`);
          continue;
        }
        const r = await step(target, next.phase, next.rate, ms);
        s.record(r.held);
        await sleep(r.held ? pauseMs : failPauseMs);
      }
    }

    const summary = (s: RateSearch, target: SustainedTarget): ServerSummary => {
      const rate = s.confirmed ?? s.bestShort ?? NaN;
      const failed = steps.filter((x) => x.target === target && !x.held);
      return {
        failedSteps: failed.length,
        failedStepsWithLateLoad: failed.filter((x) => x.generatorStartLagMs.p99 > LATE_START_MS).length,
        rate,
        heldMs: s.confirmed !== null ? holdMs : stepMs,
        confirmed: s.confirmed !== null,
        bestShortRate: s.bestShort,
        note: s.note,
        devicesAt15MinCheckIn: rate * CHECK_IN_SECONDS,
      };
    };
    const cf = summary(searches.certfleet, 'certfleet');
    const br = summary(searches.bare, 'bare');
    const ratio = cf.rate / br.rate;
    const result: SustainedBenchResult = {
      benchmark: 'sustained check-in',
      date: started.toISOString(),
      seconds: (Date.now() - started.getTime()) / 1000,
      command,
      database: c.database.kind,
      machine: host,
      source: sourceVersion(),
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg(),
      settings: {
        request: 'POST /agent/v1/connect {"agentId","agentVersion"} on a new TCP connection resuming a cached TLS session (https.Agent keepAlive false, as the gateway benchmark\'s resumed mode)',
        openLoop: 'request i of a step is started at t0 + i / rate whether or not earlier ones have finished; the load processes take every G-th request; latency is from the scheduled start',
        generators,
        devices: generators * perGenerator,
        stepMs,
        holdMs,
        budgetMs,
        pauseMs,
        failPauseMs,
        timeoutMs,
        criteria: { ...HOLD_CRITERIA, achieved: 'answers OK by the end of the window + maxP99Ms, per second of the window' },
        search,
        coreEnv: opts.coreEnv ?? {},
        historyAtCap: opts.historyAtCap ?? false,
        profiled: profileDir !== null,
        processes: 'certfleet core: the runner process; bare https server: a child of its own; load: G children',
        bare: 'bench/gateway/bare-server.ts: node:https, requestCert + rejectUnauthorized, same CA, same session settings; records nothing',
      },
      setup,
      certfleet: cf,
      bare: br,
      ratio,
      goal: { ratioAtLeast: GOAL_SUSTAINED_RATIO, met: ratio >= GOAL_SUSTAINED_RATIO },
      steps,
    };
    log('');
    for (const [name, s] of [['certfleet', cf], ['bare', br]] as const) {
      log(
        `${name}: ${s.confirmed ? `held ${fmt(s.rate)}/s for ${s.heldMs / 1000} s` : `NOT confirmed for ${holdMs / 1000} s; highest held in a ${stepMs / 1000} s step: ${fmt(s.rate)}/s`}` +
          ` = ${fmt(s.devicesAt15MinCheckIn)} devices at a 15-minute check-in${s.note ? ` (${s.note})` : ''}`,
      );
      if (s.failedStepsWithLateLoad > 0) {
        log(
          `  ${s.failedStepsWithLateLoad} of its ${s.failedSteps} failed steps had the load start requests more than ${LATE_START_MS} ms late at p99: ` +
            'the load processes (starved on a busy machine) may have limited this figure, not only the server',
        );
      }
    }
    log(
      `certfleet / bare sustained rate: ${ratio.toFixed(2)} — goal ≥ ${GOAL_SUSTAINED_RATIO}: ${result.goal.met ? 'MET' : 'NOT MET'}` +
        (cf.confirmed && br.confirmed
          ? ''
          : !cf.confirmed && !br.confirmed
            ? ` (indicative only: neither server held a rate for the whole ${holdMs / 1000} s window)`
            : ` (indicative only: ${cf.confirmed ? 'the bare server' : 'certfleet'} held no rate for the whole ${holdMs / 1000} s window)`),
    );
    if (opts.write) {
      const written = writeResults(join(dirname(fileURLToPath(import.meta.url)), '..'), 'sustained', result.database, result);
      log(`results: ${written.join(', ')}`);
    }
    return result;
  } finally {
    await Promise.all(gens.map((g) => g.stop().catch(() => {})));
    await bare?.stop().catch(() => {});
    await core?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
