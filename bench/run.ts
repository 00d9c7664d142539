/**
 * The benchmark suite: `npm run bench` (full, a million devices) or `npm run bench -- --quick`
 * (a small version in about a minute, which CI runs so that the benchmarks keep working).
 *
 * Needs a PostgreSQL server: DATABASE_URL names a database on it that the runner only uses to
 * connect. The suite creates its own scratch database next to it (certfleet_bench_<time>), seeds
 * it with `npm run seed`, runs every benchmark against it and drops it at the end (--keep keeps it).
 *
 *   1. API reads at fleet scale (bench/api.bench.ts, in this process against a core started here):
 *      authStatusSummary vs a GROUP BY and vs { __typename }; the first devices page vs the page
 *      1,000 pages deep.
 *   2. Summary fan-out vs a bare ws broadcast, at 5,000 subscribers and at the most one process can
 *      hold under the open-file limit (ulimit -n minus 1,000: 19,000 under 20,000), with the heap
 *      per idle dashboard and the server's RSS at fleet scale (bench/fanout.bench.ts, child
 *      processes on the seeded database; quick: 200).
 *   3. Connection results through the mTLS gateway vs a bare https server (goal ≥ 0.8 × with a new
 *      handshake and with resumed sessions), and kept-alive vs the same server recording each result
 *      with one INSERT (goal ≥ 1.5 ×) (bench/gateway.bench.ts, on the scratch database).
 *   4. Certificate issuance through approveClients vs raw signing and node-forge (bench/issuance.bench.ts).
 *   5. Sustained check-ins: the highest open-loop rate of resumed-session reconnections held for 60 s,
 *      certfleet vs the bare https server, in devices at a 15-minute check-in (bench/sustained.bench.ts),
 *      every device at its history cap (so every result pays the per-device cap, as in a real fleet).
 *   6. Connection history at scale, partitioned vs the layout before drizzle/0009: group-commit
 *      throughput with an empty and a full history, a device's history page, retention per day
 *      (bench/history.bench.ts, in two scratch databases of its own next to DATABASE_URL's).
 *   7. Revocation one at a time with a CRL of 50,000 entries vs an empty one, and how soon the CRL
 *      names each revocation (bench/revocation.bench.ts; two scratch databases of its own).
 *   8. certfleet's CA against Puppet Server's as a peer: signing one at a time and in batches, revoking
 *      (bench/peer.bench.ts, on a scratch database of its own). Only where puppetserver is installed:
 *      elsewhere (CI) it prints one line, and its row says skipped; it never fails the suite.
 *
 * Every figure is a ratio against a baseline measured in the same run. The full run writes
 * bench/results/suite.json and the table at the top of BENCHMARKS.md (between the markers); the
 * quick run writes its JSON to a scratch directory and changes no recorded result.
 *
 * Usage: npm run bench [-- --quick] [--devices N] [--keep] [--only api,fanout,gateway,issuance,sustained,history,revocation,peer]
 *
 * The table the suite prints and writes into BENCHMARKS.md is made in suite-table.ts.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { isMain } from '../src/cli/is-main.js';
import { loadConfig, redactUrl } from '../src/config.js';
import { issueToken } from '../src/server/auth.js';
import { runApiBench } from './api.bench.js';
import { machine, rssOf, sourceVersion, UsageError } from './bench-common.js';
import { FD_HEADROOM, fdLimits, largestSubscriberCount } from './fanout/measure.js';
import { markdown, tableRows, writeBenchmarksMd } from './suite-table.js';
import { freePort } from '../src/faults/ports.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const BENCHES = ['api', 'fanout', 'gateway', 'issuance', 'sustained', 'history', 'revocation', 'peer'] as const;
type Bench = (typeof BENCHES)[number];

interface Plan {
  quick: boolean;
  devices: number;
  keep: boolean;
  only: Set<Bench>;
  apiRounds: number;
  /** How many pages deep the deep devices page is. */
  depth: number;
  fanout: string[];
  /** How the fan-out's largest N was chosen, for the log. */
  fanoutNote: string;
  gateway: string[];
  issuance: string[];
  sustained: string[];
  history: string[];
  revocation: string[];
  /** bench/peer.bench.ts: certfleet's CA against Puppet Server's, when puppetserver is installed. */
  peer: string[];
}

function plan(argv: string[]): Plan {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      devices: { type: 'string' },
      keep: { type: 'boolean' },
      only: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');
  const quick = values.quick ?? false;
  const devices = values.devices === undefined ? (quick ? 20_000 : 1_000_000) : Number(values.devices);
  if (!Number.isInteger(devices) || devices < 1000 || devices > 10_000_000) {
    throw new UsageError(`--devices must be a whole number from 1000 to 10000000 (got ${values.devices})`);
  }
  const only = new Set<Bench>();
  for (const name of (values.only ?? BENCHES.join(',')).split(',').map((s) => s.trim())) {
    if (!(BENCHES as readonly string[]).includes(name)) throw new UsageError(`--only takes ${BENCHES.join(', ')} (got ${name})`);
    only.add(name as Bench);
  }
  return {
    quick,
    devices,
    keep: values.keep ?? false,
    only,
    apiRounds: quick ? 30 : 200,
    depth: quick ? 100 : 1000,
    ...fanoutPlan(quick),
    gateway: quick ? ['--quick'] : [],
    issuance: quick ? ['--quick', '--no-breakdown'] : ['--count', '2000', '--no-breakdown'],
    revocation: quick ? ['--quick'] : [],
    // Every device starts at its history cap, as a fleet is after about a day: each result pays the cap.
    sustained: quick ? ['--quick', '--history-at-cap'] : ['--history-at-cap'],
    // 30 days of history, one row per device per day (full: 30 million rows per layout).
    history: quick ? ['--quick'] : ['--devices', String(devices)],
    peer: quick ? ['--quick'] : [],
  };
}

/**
 * fanoutPlan: quick, 200 dashboards; full, 5,000 (comparable with earlier runs) and the most one
 * certfleet process can hold here: its open-file limit minus FD_HEADROOM, in thousands.
 */
function fanoutPlan(quick: boolean): { fanout: string[]; fanoutNote: string } {
  if (quick) return { fanout: ['--subscribers', '200', '--changes', '3'], fanoutNote: 'fan-out: 200 subscribers (quick)' };
  const limits = fdLimits();
  const max = largestSubscriberCount(limits);
  const sizes = max > 5000 ? `5000,${max}` : String(max);
  return {
    fanout: ['--subscribers', sizes, '--changes', '10'],
    fanoutNote:
      `fan-out: ${sizes.replace(',', ' and ')} subscribers; the largest is the open-file limit (ulimit -n: ` +
      `${limits ? `${limits.soft}, hard ${limits.hard}` : 'unknown, taken as 20000'}) minus ${FD_HEADROOM} for files, in thousands`,
  };
}

const USAGE = `Usage: npm run bench [-- --quick] [--devices N] [--keep] [--only ${BENCHES.join(',')}]

Runs the benchmark suite against a scratch database on the PostgreSQL server DATABASE_URL points at.
  --quick      a small version (${20_000} devices, few rounds): about a minute; writes no recorded result
  --devices N  fleet size to seed (default 1000000; quick: 20000)
  --keep       keep the scratch database afterwards (its name is printed)
  --only LIST  run only some benchmarks
`;

/** run runs a command to completion, passing its output through, and fails on a non-zero exit. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} ended with ${signal ?? `exit code ${code}`}`)),
    );
  });
}

/** waitForHealth waits until the core answers its readiness URL, or fails if it exits first. */
async function waitForHealth(url: string, exited: Promise<number | null>): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`the core exited (code ${gone}) before it answered ${url}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the core did not answer ${url} within 120 s`);
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

async function main(): Promise<number> {
  let p: Plan;
  try {
    p = plan(process.argv.slice(2));
  } catch (err) {
    const msg = err instanceof UsageError || err instanceof TypeError ? (err as Error).message : String(err);
    process.stderr.write(`${msg ? `${msg}\n\n` : ''}${USAGE}`);
    return msg ? 2 : 0;
  }
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    process.stderr.write(
      'npm run bench needs a PostgreSQL server: set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres\n' +
        '(the suite creates and drops its own scratch database there).\n',
    );
    return 2;
  }
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const started = new Date();
  const load = [loadavg()];
  const host = machine();
  const stamp = started.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const scratch = `certfleet_bench_${stamp}_${process.pid}`;
  const scratchUrl = (() => {
    const u = new URL(baseUrl);
    u.pathname = `/${scratch}`;
    return u.toString();
  })();
  // Each benchmark writes its JSON to a scratch directory; the suite keeps it inside suite.json. The
  // files under bench/results then stay those of the runs their BENCHMARKS.md sections describe.
  const childDir = mkdtempSync(join(tmpdir(), p.quick ? 'certfleet-bench-quick-' : 'certfleet-bench-runs-'));
  const outDir = p.quick ? childDir : join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  // Every core of the run opens the same CA on the scratch database: one passphrase for all (never printed).
  const passphrase = randomBytes(24).toString('base64url');
  const childEnv = { ...process.env, DATABASE_URL: scratchUrl, BENCH_RESULTS_DIR: childDir, LOG_LEVEL: 'warn', CA_KEY_PASSPHRASE: passphrase };

  log(`certfleet benchmark suite (${p.quick ? 'quick' : 'full'}): ${p.devices.toLocaleString('en-US')} devices`);
  log(`machine: ${host.nproc} CPUs (${host.cpuModel}), ${host.memoryGB} GB, Node ${host.node}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log(`scratch database: ${redactUrl(scratchUrl)}`);

  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${scratch}"`); // a name made here from digits: nothing from outside
  const results: Record<string, unknown> = {};
  const ran: Bench[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'certfleet-bench-'));
  try {
    log('\n== seeding');
    const seedStart = performance.now();
    await run('npx', ['tsx', 'src/cli/seed.ts', '--devices', String(p.devices)], childEnv);
    results.seed = { devices: p.devices, seconds: (performance.now() - seedStart) / 1000 };
    load.push(loadavg());

    if (p.only.has('api')) {
      log('\n== API reads (summary, pagination)');
      // The core runs as `npm start` would, in a process of its own, so the benchmark's HTTP client
      // does not share its event loop.
      const port = await freePort();
      const env = { ...childEnv, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), AGENT_PORT: String(await freePort()), SHUTDOWN_DRAIN_MS: '0' };
      const core = spawn(process.execPath, ['--import', 'tsx', 'src/cli/start.ts'], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => core.once('exit', (code) => resolve(code)));
      // A second core, its cache of verified tokens off, on the same database and token key: the
      // cache's before/after in the same run. Started once the first is up (they migrate the same database).
      let uncached: { child: ReturnType<typeof spawn>; exited: Promise<number | null> } | undefined;
      try {
        const url = `http://127.0.0.1:${port}/graphql`;
        await waitForHealth(`http://127.0.0.1:${port}/readyz`, exited);
        const port2 = await freePort();
        const env2 = { ...env, PORT: String(port2), AGENT_PORT: String(await freePort()), AUTH_TOKEN_CACHE_SIZE: '0' };
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/start.ts'], { cwd: root, env: env2, stdio: ['ignore', 'inherit', 'inherit'] });
        uncached = { child, exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
        await waitForHealth(`http://127.0.0.1:${port2}/readyz`, uncached.exited);
        const token = await issueToken(loadConfig(env).auth, { subject: 'bench', roles: ['VIEWER'], ttlSeconds: 3600 });
        const api = await runApiBench({
          url,
          uncachedUrl: `http://127.0.0.1:${port2}/graphql`,
          token,
          databaseUrl: scratchUrl,
          rounds: p.apiRounds,
          depth: p.depth,
          log,
        });
        results.api = { ...api, coreRssBytes: rssOf(core.pid!) };
      } finally {
        core.kill('SIGTERM');
        uncached?.child.kill('SIGTERM');
        await exited;
        await uncached?.exited;
      }
      ran.push('api');
      load.push(loadavg());
    }
    for (const name of ['fanout', 'gateway', 'issuance', 'sustained', 'history', 'revocation', 'peer'] as const) {
      if (!p.only.has(name)) continue;
      const script = join('bench', `${name}.bench.ts`);
      if (!existsSync(join(root, script))) {
        log(`\n== ${name}: ${script} is missing — skipped`);
        continue;
      }
      log(`\n== ${name}`);
      if (name === 'fanout') log(p.fanoutNote);
      if (name === 'peer') {
        // The peer is somebody else's server (Puppet's, started by the step itself): when it cannot be
        // brought up or measured, the suite says so in one line and its row, and goes on (issue 14: never
        // fail a run for it).
        try {
          await run('npx', ['tsx', script, ...p[name]], childEnv);
          results[name] = readJson(join(childDir, `${name}.json`));
        } catch (err) {
          const why = `the peer step failed: ${(err as Error).message}`;
          log(`peer (Puppet Server's CA): ${why} — reported, not counted`);
          results[name] = { benchmark: 'peer', skipped: why };
        }
      } else {
        await run('npx', ['tsx', script, ...p[name]], childEnv);
        results[name] = readJson(join(childDir, `${name}.json`));
      }
      ran.push(name);
      load.push(loadavg());
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (!p.quick) rmSync(childDir, { recursive: true, force: true });
    if (!p.keep) {
      await admin.unsafe(`drop database if exists "${scratch}" with (force)`).catch((err: Error) => {
        log(`could not drop the scratch database ${scratch}: ${err.message}`);
      });
    } else log(`kept the scratch database: ${redactUrl(scratchUrl)}`);
    await admin.end({ timeout: 5 });
  }

  const rows = tableRows(results);
  const suite = {
    benchmark: 'suite',
    quick: p.quick,
    date: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    command: `DATABASE_URL=${redactUrl(baseUrl)} npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: host,
    source: sourceVersion(),
    loadAverages: load,
    devices: p.devices,
    ran,
    rows,
    results,
  };
  const jsonFile = join(outDir, p.quick ? 'suite.quick.json' : 'suite.json');
  writeFileSync(jsonFile, `${JSON.stringify(suite, null, 2)}\n`);
  const table = markdown({ ...suite, jsonName: p.quick ? jsonFile : 'bench/results/suite.json' });
  log(`\n${table}`);
  log(`results: ${jsonFile}`);
  if (!p.quick) writeBenchmarksMd(root, table);

  // The suite asserts that every benchmark ran and produced its figures, not how fast they were.
  const missing = [...p.only].filter((b) => !ran.includes(b));
  const empty = rows.filter((r) => r.measured === 'n/a');
  if (missing.length > 0 || empty.length > 0) {
    log(`INCOMPLETE: not run: ${missing.join(', ') || '-'}; without a figure: ${empty.map((r) => r.what).join('; ') || '-'}`);
    return 1;
  }
  return 0;
}

if (isMain(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`benchmark suite failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
