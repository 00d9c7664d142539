/**
 * Revocation benchmark: does a revocation's cost grow with the CRL? Two in-process cores, each on a
 * database of its own: one whose CRL is (nearly) empty, one whose CRL already names K revoked
 * certificates (default 50,000). Each revokes N certificates (default 500) one at a time through
 * the GraphQL API (`revokeClientCertificate`, as a script or the Puppet comparison would), in
 * interleaved rounds (round r: N/R on one core, then N/R on the other, the order alternating), so
 * that load which comes and goes weighs on both alike. Goal: the K core takes no longer than the
 * empty one (ratio ≤ 1.0 ×, within the noise stated in the output): met unless the 95 % interval of
 * the rounds' mean ratio lies wholly above 1.0, i.e. the K core is measurably slower.
 *
 * Also measured, per core: how long after a revocation's response the CRL served names it (max over
 * the run; the promise is CRL_WINDOW_MS, 1 s), how many CRLs were signed during the timed rounds,
 * and the CRL's size (see Watcher). At the end the CRL served by each core's gateway
 * (GET /agent/v1/crl) must name every serial revoked.
 *
 * Setup (not timed): the certificates to revoke come from the seed tool (devices in Authentication
 * succeeded with an approved certificate each); the K already revoked are plain SQL rows, then one
 * CRL is signed that names them all.
 *
 * Usage: npx tsx bench/revocation.bench.ts [--quick] [--revocations N] [--revoked K] [--rounds R]
 *   --quick: N = 100, K = 5,000, R = 4. DATABASE_URL selects PostgreSQL (the benchmark creates two
 *   scratch databases next to the one named and drops them), else two embedded databases.
 * Writes (into BENCH_RESULTS_DIR if set) revocation.json and revocation.<database>.json.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createAgentClient } from '../src/agent-client/agent-client.js';
import { loadConfig, redactUrl } from '../src/config.js';
import { getRevocationListHead } from '../src/db/client-certificate-queries.js';
import { rowsOf } from '../src/db/rows.js';
import { startCore, type CoreHandle } from '../src/main.js';
import { seedFleet } from '../src/seed/seed-fleet.js';
import { issueToken } from '../src/server/auth.js';
import { benchCoreEnv, machine, positiveNumber, runBenchMain, sourceVersion, writeResults } from './bench-common.js';

const here = dirname(fileURLToPath(import.meta.url));
const USAGE = 'usage: npx tsx bench/revocation.bench.ts [--quick] [--revocations N] [--revoked K] [--rounds R]';
/** Goal: revoking with K already revoked takes no longer than with none. */
export const GOAL_RATIO = 1.0;

/** Student's t at 97.5 % for 1–30 degrees of freedom (two-sided 95 %); past 30, 2.0 is close enough. */
const T975 = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06, 2.05, 2.05, 2.05, 2.04];

/** meanInterval95 is the mean of xs with its 95 % confidence interval (Student's t; xs.length ≥ 2). */
export function meanInterval95(xs: readonly number[]): { mean: number; low: number; high: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, low: mean, high: mean };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = (T975[n - 2] ?? 2.0) * (sd / Math.sqrt(n));
  return { mean, low: mean - half, high: mean + half };
}

interface Side {
  name: string;
  revokedBefore: number;
  core: CoreHandle;
  token: string;
  ids: { id: string; serial: string }[];
  dataDir: string;
  drop: () => Promise<void>;
  /** Milliseconds of each timed revocation call. */
  callMs: number[];
  /** Milliseconds from each revocation's response until the stored CRL named it. */
  reflectMs: number[];
  signedBefore: number;
  entriesAfter: number;
}

const REVOKE = `mutation Revoke($id: ID!) { revokeClientCertificate(id: $id, reason: KEY_COMPROMISE) { id status } }`;

async function revokeOverHttp(side: Side, id: string): Promise<void> {
  const res = await fetch(side.core.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${side.token}` },
    body: JSON.stringify({ query: REVOKE, variables: { id } }),
  });
  const body = (await res.json()) as { data?: { revokeClientCertificate: { status: string } }; errors?: unknown[] };
  if (res.status !== 200 || body.errors || body.data?.revokeClientCertificate.status !== 'REVOKED') {
    throw new Error(`revoking ${id} failed: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

/** serialBytes is how a canonical serial appears in the CRL's DER (a sign octet added when the top bit is set). */
const serialBytes = (serial: string) => {
  const b = Buffer.from(serial, 'hex');
  return b[0]! & 0x80 ? Buffer.concat([Buffer.from([2, b.length + 1, 0]), b]) : Buffer.concat([Buffer.from([2, b.length]), b]);
};
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64');

/**
 * Watcher reads the CRL's number and thisUpdate every 20 ms while a round runs (a small read, the
 * same on both cores), as the gateway would before serving it, and signs on demand as the gateway
 * would when a revocation waits longer than the window. A CRL names every revocation committed before
 * its thisUpdate (the signer takes the time before it reads what is pending), so a revocation is
 * named by the first CRL seen whose thisUpdate is at or after the revocation's response.
 */
class Watcher {
  private seen: { crlNumber: number; thisUpdate: number; seenAt: number }[] = [];
  private stopped = false;
  private loop: Promise<void>;
  constructor(private side: Side) {
    this.loop = this.run();
  }
  private async run(): Promise<void> {
    const { core } = this.side;
    while (!this.stopped) {
      const { crl, pendingAgeMs } = await getRevocationListHead(core.database.db);
      if (pendingAgeMs !== null && pendingAgeMs >= core.services.revocation.windowMs) await core.services.revocation.currentCrlPem();
      const last = this.seen.at(-1);
      if (crl && crl.crlNumber !== last?.crlNumber) this.seen.push({ crlNumber: crl.crlNumber, thisUpdate: crl.thisUpdate.getTime(), seenAt: Date.now() });
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** until waits until a CRL covers a revocation answered at respondedAt (wall clock, ms). */
  async until(respondedAt: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.seen.some((s) => s.thisUpdate >= respondedAt)) {
      if (Date.now() > deadline) throw new Error(`${this.side.name}: no CRL covered a revocation within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** delayOf is how long after respondedAt the first CRL covering it was seen. */
  delayOf(respondedAt: number): number {
    return this.seen.find((s) => s.thisUpdate >= respondedAt)!.seenAt - respondedAt;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function count(core: CoreHandle, q: ReturnType<typeof sql>): Promise<number> {
  return Number(rowsOf<{ n: string | number }>(await core.database.db.execute(q))[0]!.n);
}

async function makeSide(name: string, revokedBefore: number, n: number, adminUrl: string | undefined, log: (s: string) => void): Promise<Side> {
  const dataDir = mkdtempSync(join(tmpdir(), `certfleet-revocation-${name}-`));
  let databaseUrl: string | undefined;
  let drop = async () => {};
  if (adminUrl) {
    const dbName = `certfleet_revocation_${Date.now()}_${process.pid}_${name}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${dbName}"`); // a name made here from digits and a fixed word
    await admin.end();
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
    drop = async () => {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${dbName}" with (force)`);
      await a.end();
    };
  }
  const config = loadConfig(benchCoreEnv(dataDir, databaseUrl));
  let core: CoreHandle;
  try {
    core = await startCore(config);
  } catch (err) {
    await drop().catch(() => {});
    throw err;
  }
  try {
    return await prepareSide({ name, revokedBefore, n, core, dataDir, drop, config, log });
  } catch (err) {
    await core.close().catch(() => {});
    await drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function prepareSide(p: {
  name: string;
  revokedBefore: number;
  n: number;
  core: CoreHandle;
  dataDir: string;
  drop: () => Promise<void>;
  config: ReturnType<typeof loadConfig>;
  log: (s: string) => void;
}): Promise<Side> {
  const { name, revokedBefore, n, core, dataDir, drop, config, log } = p;
  const token = await issueToken(config.auth, { subject: 'bench', roles: ['SECURITY_ADMIN'], ttlSeconds: 3600 });
  // The certificates to revoke: seeded devices in Authentication succeeded, each with its approved certificate.
  await seedFleet(core.database, { devices: n, mix: { AUTHENTICATION_SUCCEEDED: 100 }, batch: Math.max(100, Math.min(n, 10_000)) });
  const ids = rowsOf<{ id: string | number; serial_number: string }>(
    await core.database.db.execute(
      sql`select id, serial_number from client_certificates where status = 'APPROVED' and not_after > now() order by id limit ${n}`,
    ),
  ).map((r) => ({ id: String(r.id), serial: r.serial_number }));
  if (ids.length < n) throw new Error(`${name}: seeded ${ids.length} approved certificates, wanted ${n}`);
  if (revokedBefore > 0) {
    // Already revoked, unexpired: plain rows on the core's own device; serials 0x7b… (top bit clear, canonical).
    await core.database.db.execute(sql`
      insert into client_certificates (device_id, status, subject, key_algorithm, public_key_fingerprint, csr_pem,
        requested_at, decided_at, decided_by, serial_number, not_before, not_after, revoked_at, revocation_reason)
      select d.id, 'REVOKED', 'CN=bench-revoked-' || g, 'EC-P256', md5('bench-revoked-' || g) || md5('key-' || g), '-',
        now() - interval '30 days', now() - interval '30 days', 'bench', '7b' || lpad(to_hex(g), 30, '0'),
        now() - interval '30 days', now() + interval '300 days', now() - interval '1 day', 'KEY_COMPROMISE'
      from (select id from devices where is_core_server limit 1) d, generate_series(1, ${revokedBefore}::int) g`);
  }
  // One CRL that names them all, signed as after any revocation.
  await core.database.db.execute(sql`insert into crl_pending_revocations default values`);
  const side: Side = { name, revokedBefore, core, token, ids, dataDir, drop, callMs: [], reflectMs: [], signedBefore: 0, entriesAfter: 0 };
  for (let i = 0; i < 1000 && (await count(core, sql`select count(*) as n from crl_pending_revocations`)) > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const entries = await count(core, sql`select count(*) as n from client_certificates where status = 'REVOKED' and not_after > now()`);
  log(`${name}: ${n} approved certificates to revoke; the CRL names ${entries.toLocaleString('en-US')} before the run`);
  return side;
}

async function servedCrl(side: Side): Promise<string> {
  const client = createAgentClient({ gatewayUrl: side.core.agentUrl, caCertificatePem: side.core.authority.certificatePem, agentId: 'bench-crl-reader' });
  try {
    const res = await client.raw('GET', '/agent/v1/crl');
    if (res.status !== 200) throw new Error(`GET /agent/v1/crl answered ${res.status}`);
    return String(res.body);
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      quick: { type: 'boolean' },
      revocations: { type: 'string' },
      revoked: { type: 'string' },
      rounds: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const quick = values.quick ?? false;
  const n = values.revocations ? positiveNumber(values.revocations, '--revocations') : quick ? 100 : 500;
  const k = values.revoked ? positiveNumber(values.revoked, '--revoked') : quick ? 5_000 : 50_000;
  const rounds = values.rounds ? positiveNumber(values.rounds, '--rounds') : quick ? 4 : 10;
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const started = new Date();
  const load = [loadavg()];
  const adminUrl = process.env.DATABASE_URL;
  const database = adminUrl ? `PostgreSQL (${redactUrl(adminUrl)}, two scratch databases)` : 'embedded (PGlite, two data directories)';
  log(`revocation benchmark: ${n} revocations one at a time, CRL of ~0 vs ${k.toLocaleString('en-US')}; ${rounds} interleaved rounds; ${database}`);

  const sides: Side[] = [];
  try {
    sides.push(await makeSide('empty', 0, n, adminUrl, log));
    sides.push(await makeSide(`k${k}`, k, n, adminUrl, log));
    const windowMs = sides[0]!.core.services.revocation.windowMs;
    load.push(loadavg());
    for (const s of sides) s.signedBefore = s.core.services.revocation.reissuesSigned();
    const per = Math.ceil(n / rounds);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const batch = side.ids.slice(r * per, (r + 1) * per);
        const watcher = new Watcher(side);
        const responded: number[] = [];
        try {
          for (const { id } of batch) {
            const t0 = performance.now();
            await revokeOverHttp(side, id);
            side.callMs.push(performance.now() - t0);
            responded.push(Date.now());
          }
          // Not timed: until a CRL covers the round's last revocation.
          await watcher.until(responded.at(-1)!, 30_000);
        } finally {
          await watcher.stop();
        }
        for (const at of responded) side.reflectMs.push(watcher.delayOf(at));
      }
    }
    load.push(loadavg());
    // The served CRL (the gateway, as agents read it) names every revocation of the run.
    const crlBytes: number[] = [];
    for (const side of sides) {
      const der = derOf(await servedCrl(side));
      crlBytes.push(der.length);
      const missing = side.ids.filter(({ serial }) => !der.includes(serialBytes(serial)));
      if (missing.length > 0) throw new Error(`${side.name}: the served CRL misses ${missing.length} revoked serial(s)`);
    }
    for (const s of sides) {
      s.entriesAfter = await count(s.core, sql`select count(*) as n from client_certificates where status = 'REVOKED' and not_after > now()`);
    }
    const [empty, full] = sides as [Side, Side];
    const totalEmpty = sum(empty.callMs) / 1000;
    const totalFull = sum(full.callMs) / 1000;
    const ratio = totalFull / totalEmpty;
    // The rounds' own spread: how far one round's ratio strays from the whole run's (the noise).
    const roundRatios = Array.from({ length: rounds }, (_, r) => sum(full.callMs.slice(r * per, (r + 1) * per)) / sum(empty.callMs.slice(r * per, (r + 1) * per)));
    const ci = meanInterval95(roundRatios);
    const side = (s: Side, bytes: number) => ({
      revokedBefore: s.revokedBefore,
      crlEntriesAfter: s.entriesAfter,
      crlBytes: bytes,
      seconds: sum(s.callMs) / 1000,
      perSecond: s.callMs.length / (sum(s.callMs) / 1000),
      medianMs: quantile(s.callMs, 0.5),
      p95Ms: quantile(s.callMs, 0.95),
      reflectMaxMs: Math.max(...s.reflectMs),
      reflectMedianMs: quantile(s.reflectMs, 0.5),
      crlsSigned: s.core.services.revocation.reissuesSigned() - s.signedBefore,
    });
    const result = {
      benchmark: 'revocation',
      date: started.toISOString(),
      database,
      machine: machine(),
      source: sourceVersion(),
      loadAverages: load,
      revocations: n,
      rounds,
      windowMs,
      empty: side(empty, crlBytes[0]!),
      full: side(full, crlBytes[1]!),
      ratio,
      roundRatioMin: Math.min(...roundRatios),
      roundRatioMax: Math.max(...roundRatios),
      // The 95 % interval of the rounds' mean ratio. The goal is met unless the whole interval lies
      // above it: a K core measurably slower than the empty one, beyond the run's own noise.
      roundRatioMean: ci.mean,
      roundRatioCi95: [ci.low, ci.high] as [number, number],
      goal: GOAL_RATIO,
      met: ci.low <= GOAL_RATIO,
      reflectMaxMs: Math.max(...empty.reflectMs, ...full.reflectMs),
    };
    const files = writeResults(here, 'revocation', adminUrl ? 'postgres' : 'embedded', result);
    const f = (x: number, d = 2) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
    log('');
    log(`| CRL before | revocations | seconds | per s | median ms | p95 ms | CRL named it, max (median) ms | CRLs signed | CRL after |`);
    log(`|---|---|---|---|---|---|---|---|---|`);
    for (const s of [result.empty, result.full]) {
      log(
        `| ${s.revokedBefore.toLocaleString('en-US')} | ${n} | ${f(s.seconds)} | ${f(s.perSecond, 0)} | ${f(s.medianMs)} | ${f(s.p95Ms)} | ${f(s.reflectMaxMs, 0)} (${f(s.reflectMedianMs, 0)}) | ${s.crlsSigned} | ${s.crlEntriesAfter.toLocaleString('en-US')} entries, ${f(s.crlBytes / 2 ** 20)} MiB |`,
      );
    }
    log('');
    log(
      `ratio (K=${k.toLocaleString('en-US')} over empty): ${f(ratio)} × (rounds: ${f(result.roundRatioMin)}–${f(result.roundRatioMax)}; ` +
        `rounds' mean ${f(ci.mean)} ×, 95 % interval ${f(ci.low)}–${f(ci.high)}), goal ≤ ${f(GOAL_RATIO, 1)} ×: ${result.met ? 'met' : 'not met'}`,
    );
    log(`CRL named each revocation within ${f(result.reflectMaxMs, 0)} ms of its response at most (window ${windowMs} ms)`);
    log(`load average ${load.map((l) => l.map((x) => x.toFixed(2)).join(' ')).join(' → ')}`);
    log(`results: ${files.join(', ')}`);
  } finally {
    for (const s of sides) {
      await s.core.close().catch(() => {});
      await s.drop().catch((err: Error) => log(`could not drop ${s.name}'s database: ${err.message}`));
      rmSync(s.dataDir, { recursive: true, force: true });
    }
  }
}

runBenchMain(import.meta.url, USAGE, main);
