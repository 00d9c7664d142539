// npm run faults: proves under faults that an acknowledged agent result is a stored one.
import { mkdtemp, rm, cp, mkdir } from 'node:fs/promises';
import { rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CoreProcess } from '../faults/core-process.js';
import { FAULT_KINDS, FAULT_TITLES, Interrupted, runFault, type FaultKind, type FaultReport, type FaultRunOptions } from '../faults/fault-run.js';
import { findPostgresBinaries, PrivateClusterError, startPrivatePostgres, type PrivatePostgres, type RestartMode } from '../faults/private-postgres.js';
import { formatFaultReport } from '../faults/report.js';
import { isMain } from './is-main.js';

const FULL = { agents: 200, before: '20s', after: '30s', interval: '1s', down: '2s', timeout: '10s' };
// 15 s after the fault: an agent told 503 waits its Retry-After (5 s); if the database is still
// coming back when it retries, it waits 5 s more, and it must be answered before the load ends.
const QUICK = { agents: 40, before: '5s', after: '15s', interval: '500ms', down: '1s', timeout: '5s' };

const USAGE = `Usage: npm run faults -- [options]

Runs agents against certfleet cores on a private PostgreSQL cluster of its own and injects three
faults, each against a fresh database:
  kill          kill -9 of the server (a real npm start process) while agents connect; then start it again
  pg-restart    pg_ctl restart of the private cluster while agents connect; the server keeps running
  replica-kill  two replicas on one database, agents spread over both; one replica killed with SIGKILL,
                its agents carry on against the survivor

Each agent reconnects in a loop (a connection and a vulscan report per round) and tries a report
again after an HTTP 503 (honouring Retry-After), a 500 or a failed connection, until it is answered
with a result (200/401/403/426). For each fault it reports the results acknowledged, the results
stored (rows in connection_results, each acknowledged one found by its device, source, verdict and
time), the lost ones (acknowledged but not stored), the errors agents saw by kind, the counters
against a GROUP BY recount (at the end and every second during the load), whether a live dashboard
(graphql-ws, authStatusSummaryChanged) on each replica left running shows the final state, and how
long recovery took.

The private cluster (initdb and pg_ctl from /usr/lib/postgresql/*/bin, run as the postgres user
when started as root) listens on 127.0.0.1 on a free port and is removed at the end, also after a
failure or Ctrl-C. The shared server on 5432 is never used.

Exit code: 0 if nothing was lost, the counters always equalled the recount, every dashboard
resynced, no core exited on its own and every agent that saw an error was answered again before
the load ended; 1 if not (or the run could not be made: no PostgreSQL binaries, a core that would
not start); 2 for a bad command line; 130 if interrupted. HTTP 500 answers and verdicts an agent's
part should not get are reported as defects; --strict makes them fail the run too.

  --faults LIST           which faults, comma-separated (default: kill,pg-restart,replica-kill)
  --agents N              agents per fault (default ${FULL.agents}; --quick ${QUICK.agents})
  --before D              load before the fault (default ${FULL.before}; --quick ${QUICK.before})
  --after D               load after the fault is over (default ${FULL.after}; --quick ${QUICK.after})
  --interval D            pause between an agent's rounds, ±20 % (default ${FULL.interval}; --quick ${QUICK.interval})
  --down D                kill: how long the server stays down (default ${FULL.down}; --quick ${QUICK.down})
  --pg-restart-mode M     fast or immediate (default fast)
  --request-timeout D     per agent request (default ${FULL.timeout}; --quick ${QUICK.timeout}); --after must be
                          longer by 2 s at least, so that an agent whose request timed out can be answered again
  --quick                 the short version CI runs (about a minute and a half)
  --strict                HTTP 500 answers and verdicts an agent's part should not get fail the run too
  --json FILE             also write every figure as JSON
  --logs DIR              keep the cores' and PostgreSQL's logs there (the scratch directory is removed)
  --pg-bin DIR            PostgreSQL server binaries (default: the newest /usr/lib/postgresql/*/bin)
  --help                  show this help

Durations: 500ms, 90s, 2m, or seconds.
`;

class UsageError extends Error {}

/** Resources are what the run must not leave behind, for a cleanup at process exit. */
interface Resources {
  cores: CoreProcess[];
  cluster: () => PrivatePostgres | null;
  scratch: () => string | null;
}

interface CliOptions {
  faults: FaultKind[];
  run: Omit<FaultRunOptions, 'log' | 'signal'>;
  strict: boolean;
  json?: string;
  logs?: string;
  pgBin?: string;
  quick: boolean;
}

function parseCommandLine(argv: string[]): CliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      faults: { type: 'string' },
      agents: { type: 'string' },
      before: { type: 'string' },
      after: { type: 'string' },
      interval: { type: 'string' },
      down: { type: 'string' },
      'pg-restart-mode': { type: 'string' },
      'request-timeout': { type: 'string' },
      quick: { type: 'boolean' },
      strict: { type: 'boolean' },
      json: { type: 'string' },
      logs: { type: 'string' },
      'pg-bin': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const d = values.quick ? QUICK : FULL;
  const faults = (values.faults ?? FAULT_KINDS.join(','))
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  for (const f of faults) {
    if (!(FAULT_KINDS as readonly string[]).includes(f)) throw new UsageError(`--faults takes ${FAULT_KINDS.join(', ')} (got "${f}")`);
  }
  if (faults.length === 0) throw new UsageError('--faults names no fault');
  const mode = values['pg-restart-mode'] ?? 'fast';
  if (mode !== 'fast' && mode !== 'immediate') throw new UsageError(`--pg-restart-mode must be fast or immediate (got "${mode}")`);
  const afterMs = duration('--after', values.after ?? d.after, 1000);
  const requestTimeoutMs = duration('--request-timeout', values['request-timeout'] ?? d.timeout, 100);
  // Recovery is judged by every agent that saw an error being answered again before the load ends.
  if (afterMs < requestTimeoutMs + 2000) throw new UsageError(`--after (${afterMs} ms) must be at least --request-timeout (${requestTimeoutMs} ms) + 2 s`);
  return {
    faults: [...new Set(faults)] as FaultKind[],
    run: {
      agents: wholeNumber('--agents', values.agents ?? String(d.agents), 1, 20_000),
      beforeMs: duration('--before', values.before ?? d.before, 0),
      afterMs,
      intervalMs: duration('--interval', values.interval ?? d.interval, 0),
      downMs: duration('--down', values.down ?? d.down, 0),
      pgRestartMode: mode as RestartMode,
      requestTimeoutMs,
      resyncTimeoutMs: 20_000,
    },
    strict: values.strict === true,
    json: values.json,
    logs: values.logs,
    pgBin: values['pg-bin'],
    quick: values.quick === true,
  };
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const text = raw.trim().replace(/[_,]/g, '');
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return Number(text);
}

function duration(name: string, raw: string, minMs: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  const ms = m ? Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm']) : NaN;
  if (!(ms >= minMs && ms <= 3_600_000)) throw new UsageError(`${name} must be a duration like 500ms, 90s or 2m, at least ${minMs} ms (got "${raw}")`);
  return ms;
}

export interface FaultsCliIo {
  out(text: string): void;
  err(text: string): void;
  signal?: AbortSignal;
  /** Cores and the cluster, for a last-moment cleanup when the process is made to exit. */
  onResources?: (r: Resources) => void;
}

/** runFaultsCli runs the fault run from command-line arguments and returns the exit code. */
export async function runFaultsCli(argv: string[], io: FaultsCliIo): Promise<number> {
  let opts: CliOptions;
  try {
    const parsed = parseCommandLine(argv);
    if (parsed === 'help') {
      io.out(USAGE);
      return 0;
    }
    opts = parsed;
  } catch (e) {
    const usage = e instanceof UsageError || String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    io.err(`certfleet faults: ${(e as Error).message}${usage ? ' (see --help)' : ''}\n`);
    return usage ? 2 : 1;
  }

  const log = (line: string) => io.err(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const cores: CoreProcess[] = [];
  let cluster: PrivatePostgres | null = null;
  let scratch: string | null = null;
  io.onResources?.({ cores, cluster: () => cluster, scratch: () => scratch });
  const reports: FaultReport[] = [];
  let interrupted = false;
  let runError: Error | null = null;
  try {
    const binDir = findPostgresBinaries(opts.pgBin);
    cluster = await startPrivatePostgres({ binDir, log });
    scratch = await mkdtemp(join(tmpdir(), 'certfleet-faults-'));
    for (const [i, kind] of opts.faults.entries()) {
      if (io.signal?.aborted) throw new Interrupted('interrupted');
      log(`== fault ${i + 1}/${opts.faults.length}: ${FAULT_TITLES[kind]}`);
      const dir = join(scratch, `${i + 1}-${kind}`);
      await mkdir(dir, { recursive: true });
      const report = await runFault(kind, i + 1, cluster, dir, { ...opts.run, log, signal: io.signal }, (c) => cores.push(c));
      reports.push(report);
      io.out(formatFaultReport(report, i + 1, opts.strict));
    }
  } catch (err) {
    if (err instanceof Interrupted || io.signal?.aborted) interrupted = true;
    else runError = err as Error;
  } finally {
    for (const c of cores) await c.stop(5000).catch(() => c.killSync());
    if (opts.logs && scratch) {
      await mkdir(opts.logs, { recursive: true });
      await cp(scratch, opts.logs, { recursive: true, filter: (src) => !/\/replica-[ab]$/.test(src) }).catch(() => {});
    }
    if (opts.logs && cluster) await cp(cluster.logFile, join(opts.logs, 'postgres.log')).catch(() => {});
    await cluster?.remove();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }

  const failed = reports.filter((r) => r.failures.length > 0 || (opts.strict && r.defects.length > 0));
  if (opts.json) {
    writeFileSync(
      opts.json,
      `${JSON.stringify(
        {
          command: `npm run faults -- ${argv.join(' ')}`.trim(),
          finishedAt: new Date().toISOString(),
          machine: { nproc: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version },
          postgres: cluster?.binDir ?? null,
          quick: opts.quick,
          strict: opts.strict,
          ok: !interrupted && runError === null && failed.length === 0,
          reports,
          error: runError?.message ?? null,
        },
        null,
        2,
      )}\n`,
    );
  }
  if (runError) {
    const hint = runError instanceof PrivateClusterError ? '' : ' (the cores\' logs: rerun with --logs DIR)';
    io.err(`certfleet faults: ${runError.message.replace(/\s*\n\s*/g, ' ')}${hint}\n`);
    return 1;
  }
  if (interrupted) {
    io.err('certfleet faults: interrupted; the private cluster and the cores were stopped and removed\n');
    return 130;
  }
  io.out(
    failed.length === 0
      ? `certfleet faults: PASS — ${reports.length} fault${reports.length === 1 ? '' : 's'}, nothing lost, counters equal to the recount, dashboards resynced\n`
      : `certfleet faults: FAIL — ${failed.map((r) => r.fault).join(', ')}\n`,
  );
  return failed.length === 0 ? 0 : 1;
}

if (isMain(import.meta.url)) {
  const controller = new AbortController();
  let resources: Resources | null = null;
  // Whatever happens, the cores and the private cluster do not outlive this process.
  process.on('exit', () => {
    for (const c of resources?.cores ?? []) c.killSync();
    resources?.cluster()?.removeSync();
    const scratch = resources?.scratch();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  let interrupts = 0;
  const interrupt = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupted: stopping the agents, the cores and the private cluster (again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.exitCode = await runFaultsCli(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    signal: controller.signal,
    onResources: (r) => (resources = r),
  });
  process.exit();
}
