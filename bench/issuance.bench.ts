/**
 * Certificate issuance benchmark: certificates per second through the real GraphQL API
 * (`approveClients`) of an in-process core, against baselines measured in the same run:
 *
 *  1. the fair baseline (PostgreSQL only; the goal): raw node:crypto signing plus the same rows
 *     written with plain parameterised SQL through postgres.js in approveClients' transaction shape,
 *     on the same database (bench/issuance/sql-baseline.ts);
 *  2. raw node:crypto ECDSA P-256 signing of a ~400-byte buffer (the signature alone; reported), and
 *  3. pure node-forge building and signing X.509 certificates (RSA-2048: forge has no ECDSA; reported
 *     with its own goal).
 *
 * The machine is shared, so the measurements are interleaved: round r times the r-th
 * approveClients call of 100 ids, then the SQL baseline's r-th batch of 100, then 100 raw signatures,
 * then 100 forge certificates (the order rotates each round). Load that comes and goes then weighs
 * on all alike, and the ratios hold.
 *
 * Usage: npx tsx bench/issuance.bench.ts [--count N] [--quick] [--no-breakdown] [--profile DIR]
 *   N defaults to 2000; --quick is N = 200. DATABASE_URL selects PostgreSQL, else the embedded database.
 *   --no-breakdown skips the diagnosis (where the end-to-end time goes, after the timed part).
 *   --profile DIR writes a CPU profile of each timed approveClients call (the core runs in this
 *   process) to DIR; summarise them with `npx tsx bench/profile-summary.ts DIR/*.cpuprofile`.
 *   Profiling slows the run: do not publish figures from a profiled run.
 *
 * Writes (into BENCH_RESULTS_DIR if set) bench/results/issuance.json (this run) and bench/results/issuance.<database>.json (a profiled
 * run writes DIR/issuance.json instead), and prints markdown table rows for BENCHMARKS.md.
 *
 * The pieces, in bench/issuance/: core.ts (the core, the agents' requests, approveClients over HTTP),
 * baselines.ts (raw signing, node-forge), breakdown.ts (the diagnosis).
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as x509 from '@peculiar/x509';
import { redactUrl } from '../src/config.js';
import type { CoreHandle } from '../src/main.js';
import { machine, positiveNumber, runBenchMain, sourceVersion, startProfiler, writeResults } from './bench-common.js';
import { forgeIssuer, rawSigner } from './issuance/baselines.js';
import { sqlIssuer } from './issuance/sql-baseline.js';
import { measureBreakdown, type Breakdown } from './issuance/breakdown.js';
import { approveOverHttp, BATCH, chunks, enrollPending, makeCsrs, startBenchCore } from './issuance/core.js';

x509.cryptoProvider.set(webcrypto);

/** Goal: approveClients at least half as fast as raw signing + plain SQL in the same transaction shape. */
const GOAL_VS_SQL = 0.5;
const GOAL_VS_FORGE = 10;

interface Args {
  count: number;
  breakdown: boolean;
  /** Directory for CPU profiles of the timed approveClients calls, or null. */
  profileDir: string | null;
}

const USAGE = 'usage: npx tsx bench/issuance.bench.ts [--count N] [--quick] [--no-breakdown] [--profile DIR]';

/** issuanceArgs reads the command line; it returns null for --help. */
function issuanceArgs(argv: string[]): Args | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string' },
      quick: { type: 'boolean' },
      'no-breakdown': { type: 'boolean' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const count = values.count === undefined ? undefined : positiveNumber(values.count, '--count');
  return {
    count: count ?? (values.quick ? 200 : 2000),
    breakdown: !values['no-breakdown'],
    profileDir: values.profile === undefined ? null : resolve(values.profile),
  };
}

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
const rate = (count: number, ms: number) => count / (ms / 1000);

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function fmtRatio(r: number): string {
  return r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toFixed(4);
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    first: values[0]!,
    last: values[values.length - 1]!,
    min: sorted[0]!,
    median: sorted[Math.floor(sorted.length / 2)]!,
    max: sorted[sorted.length - 1]!,
  };
}

/** runIssuanceBench runs the setup, the interleaved timed rounds and the diagnosis, then writes and prints the result. */
async function runIssuanceBench(args: Args): Promise<void> {
  const N = args.count;
  const warmup = Math.min(BATCH, Math.max(10, Math.ceil(N / 20)));
  // The diagnosis approves its own requests: half over HTTP, half in process.
  const breakdownN = args.breakdown ? 2 * Math.min(N, 400) : 0;
  const started = new Date();
  const dataDir = mkdtempSync(join(tmpdir(), 'certfleet-bench-'));
  const here = dirname(fileURLToPath(import.meta.url));
  const command = `npx tsx bench/issuance.bench.ts --count ${N}${args.breakdown ? '' : ' --no-breakdown'}`;
  const log = (s: string) => process.stdout.write(`${s}\n`);

  let core: CoreHandle | undefined;
  try {
    const booted = await startBenchCore(dataDir);
    core = booted.core;
    const { token, database, queryCount, clientCertDays } = booted;
    const host = machine();
    const caKey = core.authority.privateKey;
    log(`certfleet issuance benchmark: N = ${N} certificates, approveClients calls of ${BATCH} ids`);
    log(`database: ${database}`);
    log(`core CA key: ${caKey.asymmetricKeyType} ${caKey.asymmetricKeyDetails?.namedCurve ?? ''}`.trimEnd());
    log(`machine: ${host.nproc} CPUs (${host.cpuModel}), Node ${host.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    // Setup (not timed): warm-up + N (+ diagnosis) pending requests, and the baselines' keys.
    let t0 = now();
    const warmupIds = await enrollPending(core, 'warm', warmup);
    const ids = await enrollPending(core, 'bench', N);
    const breakdownIds = breakdownN > 0 ? await enrollPending(core, 'split', breakdownN) : [];
    // The SQL baseline approves requests of its own, enrolled the same way, on the same database.
    const databaseUrl = core.database.kind === 'postgres' ? process.env.DATABASE_URL! : null;
    const sqlWarmupIds = databaseUrl ? await enrollPending(core, 'plainwarm', warmup) : [];
    const sqlIds = databaseUrl ? await enrollPending(core, 'plain', N) : [];
    const enrolled = warmup + N + breakdownN + sqlWarmupIds.length + sqlIds.length;
    log(`setup: ${enrolled} pending requests enrolled in ${fmt((now() - t0) / 1000, 1)} s (not timed)`);
    if (!databaseUrl) log('the raw signing + plain SQL baseline needs PostgreSQL (postgres.js): skipped on the embedded database');
    const raw = rawSigner();
    const forgeCa = forgeIssuer();
    const plain = databaseUrl ? sqlIssuer(databaseUrl, { validityDays: clientCertDays, decidedBy: 'bench' }) : null;

    // Warm-up, each measurement on its own.
    for (const batch of chunks(warmupIds, BATCH)) await approveOverHttp(core, token, batch);
    for (const batch of chunks(sqlWarmupIds, BATCH)) await plain!.approve(batch);
    raw.run(Math.max(500, warmup * 5));
    forgeCa.run(Math.max(10, Math.ceil(warmup / 5)));

    // Timed, interleaved rounds.
    const batches = chunks(ids, BATCH);
    const callMs: number[] = [];
    let e2eMs = 0;
    let rawMs = 0;
    let forgeMs = 0;
    let sqlMs = 0;
    const sqlBatches = chunks(sqlIds, BATCH);
    const q0 = queryCount();
    const steps = plain ? (['e2e', 'sql', 'raw', 'forge'] as const) : (['e2e', 'raw', 'forge'] as const);
    for (let r = 0; r < batches.length; r++) {
      const batch = batches[r]!;
      for (let k = 0; k < steps.length; k++) {
        const step = steps[(r + k) % steps.length]!;
        if (step === 'e2e') {
          // The baselines block the event loop for seconds, so the in-process server's keep-alive timer for
          // the idle connection fires late, just as fetch reuses it (ECONNRESET). Let it fire first (untimed).
          await sleep(20);
          const profiler = args.profileDir ? await startProfiler(200) : null;
          const s = now();
          await approveOverHttp(core, token, batch);
          const ms = now() - s;
          if (profiler) await profiler.stop(join(args.profileDir!, `approve-${String(r).padStart(3, '0')}.cpuprofile`));
          callMs.push(ms);
          e2eMs += ms;
        } else if (step === 'sql') {
          await sleep(20); // as before approveClients: the same pause before each database batch
          const s = now();
          await plain!.approve(sqlBatches[r]!);
          sqlMs += now() - s;
        } else if (step === 'raw') {
          const s = now();
          raw.run(batch.length);
          rawMs += now() - s;
        } else {
          const s = now();
          forgeCa.run(batch.length);
          forgeMs += now() - s;
        }
      }
      if (process.stdout.isTTY) process.stdout.write(`\r  round ${r + 1}/${batches.length}`);
    }
    if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
    const queries = queryCount() - q0;
    await plain?.close();

    const e2e = {
      what: 'approveClients(ids) over HTTP (GraphQL), calls of 100 ids, one call at a time',
      certificates: N,
      calls: batches.length,
      ms: e2eMs,
      perSecond: rate(N, e2eMs),
      msPerCall: e2eMs / batches.length,
      callMs: stats(callMs),
      sqlStatementsPerCertificate: queries / N,
    };
    const rawResult = {
      what: `crypto.sign('sha256', ${raw.bytesSigned}-byte buffer, EC P-256 private key)`,
      signatures: N,
      ms: rawMs,
      perSecond: rate(N, rawMs),
    };
    const forgeResult = {
      what: 'node-forge: build, sign and PEM-encode an X.509 client certificate; RSA-2048 CA, sha256WithRSAEncryption (forge has no ECDSA)',
      certificates: N,
      ms: forgeMs,
      perSecond: rate(N, forgeMs),
    };
    const sqlResult = plain
      ? {
          what:
            'raw node:crypto EC P-256 signing + the same rows in plain parameterised SQL (postgres.js), approveClients\' transaction shape: ' +
            'lock the requests, read the devices, update them APPROVED with the certificate (returning), apply requested names, ' +
            'supersede older certificates (none here), insert the audit rows; batches of 100, one at a time',
          certificates: N,
          ms: sqlMs,
          perSecond: rate(N, sqlMs),
        }
      : null;
    if (sqlResult) log(`raw signing + plain SQL, same transaction shape:   ${fmt(sqlResult.perSecond, 1)} certificates/s`);
    log(`raw node:crypto ECDSA P-256 sign (${raw.bytesSigned} B):  ${fmt(rawResult.perSecond)} signatures/s`);
    log(`node-forge X.509, RSA-2048 CA (forge has no ECDSA): ${fmt(forgeResult.perSecond, 1)} certificates/s`);
    log(
      `end to end, approveClients over HTTP:             ${fmt(e2e.perSecond, 1)} certificates/s ` +
        `(${fmt(e2eMs / 1000, 2)} s for ${N}; ${fmt(e2e.sqlStatementsPerCertificate, 2)} SQL statements per certificate)`,
    );
    log(
      `  per call of ${BATCH}: first ${fmt(e2e.callMs.first)} ms, median ${fmt(e2e.callMs.median)} ms, ` +
        `last ${fmt(e2e.callMs.last)} ms (min ${fmt(e2e.callMs.min)}, max ${fmt(e2e.callMs.max)})`,
    );
    if (args.profileDir) log(`CPU profiles of the timed calls: ${args.profileDir}/approve-*.cpuprofile`);

    let breakdown: Breakdown | null = null;
    if (breakdownN > 0) {
      const csrPems = await makeCsrs(core, Array.from({ length: breakdownN / 2 }, (_, i) => `parse-${i}`));
      breakdown = await measureBreakdown(core, token, csrPems, breakdownIds, queryCount);
      const b = breakdown;
      const row = (label: string, x: { msEach: number; perSecond: number }) =>
        log(`  ${label.padEnd(50)} ${fmt(x.msEach, 3).padStart(8)} ms  ${fmt(x.perSecond).padStart(7)}/s`);
      log('where the time goes (per certificate; measured after the timed part):');
      row('approveClients over HTTP (interleaved with ↓)', b.approveClientsOverHttp);
      row('approveMany in process, no HTTP/GraphQL', b.approveManyInProcess);
      row('  parseCertificateRequest (re-run per approval)', b.parseCertificateRequest);
      row('  signer.issueClientCertificate', b.signerIssueClientCertificate);
      row('    of which WebCrypto ECDSA sign', b.webcryptoEcdsaSign);
      row('raw crypto.sign (timed part)', { msEach: rawMs / N, perSecond: rawResult.perSecond });
    }

    const vsRaw = e2e.perSecond / rawResult.perSecond;
    const vsSql = sqlResult ? e2e.perSecond / sqlResult.perSecond : null;
    const vsForge = e2e.perSecond / forgeResult.perSecond;
    const metSql = vsSql === null ? null : vsSql >= GOAL_VS_SQL;
    const metForge = vsForge >= GOAL_VS_FORGE;
    const dbKind = core.database.kind;
    const result = {
      benchmark: 'certificate issuance',
      date: started.toISOString(),
      command: process.env.DATABASE_URL ? `DATABASE_URL=${redactUrl(process.env.DATABASE_URL)} ${command}` : command,
      count: N,
      database: dbKind,
      databaseDetail: database.replace(/, in .*\)$/, ')'),
      machine: host,
      source: sourceVersion(),
      loadAverageAtEnd: loadavg(),
      interleaved: `round r: approveClients call r, ${plain ? 'SQL baseline batch r, ' : ''}100 raw signatures, 100 forge certificates; order rotates`,
      profiled: args.profileDir !== null,
      endToEnd: e2e,
      sqlBaseline: sqlResult,
      rawSign: rawResult,
      forge: forgeResult,
      ratios: { endToEndOverSql: vsSql, endToEndOverRaw: vsRaw, endToEndOverForge: vsForge },
      // The old goal of ≥ 0.5 × raw signing is retired (issue 14, part 4): raw signing is a reported figure.
      goals: {
        endToEndOverSql: { goal: GOAL_VS_SQL, met: metSql },
        endToEndOverForge: { goal: GOAL_VS_FORGE, met: metForge },
      },
      breakdown,
    };
    const written = writeResults(here, 'issuance', dbKind, result, args.profileDir);

    log('');
    if (vsSql !== null) log(`end to end / raw signing + plain SQL: ${fmtRatio(vsSql)} (goal ≥ ${GOAL_VS_SQL}): ${metSql ? 'MET' : 'NOT MET'}`);
    log(`end to end / raw signing: ${fmtRatio(vsRaw)} (reported)`);
    log(`end to end / node-forge:  ${fmtRatio(vsForge)} (goal ≥ ${GOAL_VS_FORGE}): ${metForge ? 'MET' : 'NOT MET'}`);
    log('');
    log('| what was measured | baseline | figure | baseline figure | ratio | goal | met? |');
    log('|---|---|---|---|---|---|---|');
    const what = `issuance end to end: \`approveClients\` over HTTP, calls of ${BATCH}, ${dbKind} database`;
    if (sqlResult) {
      log(
        `| ${what} | raw \`crypto.sign\` + plain SQL (postgres.js), same transaction shape | ${fmt(e2e.perSecond, 1)} certs/s | ` +
          `${fmt(sqlResult.perSecond, 1)} certs/s | ${fmtRatio(vsSql!)} | ≥ ${GOAL_VS_SQL} | ${metSql ? 'yes' : 'no'} |`,
      );
    }
    log(
      `| ${what} | raw \`crypto.sign\`, ECDSA P-256, ${raw.bytesSigned} B | ${fmt(e2e.perSecond, 1)} certs/s | ` +
        `${fmt(rawResult.perSecond)} sigs/s | ${fmtRatio(vsRaw)} | report | — |`,
    );
    log(
      `| ${what} | node-forge X.509, RSA-2048 | ${fmt(e2e.perSecond, 1)} certs/s | ` +
        `${fmt(forgeResult.perSecond, 1)} certs/s | ${fmtRatio(vsForge)} | ≥ ${GOAL_VS_FORGE} | ${metForge ? 'yes' : 'no'} |`,
    );
    log('');
    log(`results: ${written.join(', ')}${args.profileDir ? ' (profiled run: not written to bench/results)' : ''}`);
  } finally {
    await core?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

runBenchMain(import.meta.url, USAGE, async () => {
  const args = issuanceArgs(process.argv.slice(2));
  if (args === null) return void console.log(USAGE);
  await runIssuanceBench(args);
});
