/**
 * certfleet's CA against Puppet Server's CA, measured side by side in one run (issue 14, part 5):
 *
 *   (a) signing one at a time: approveClient(id) over GraphQL vs Puppet's
 *       PUT /puppet-ca/v1/certificate_status/<name> {"desired_state":"signed"}, one after another;
 *   (b) signing in batches: approveClients of 100 ids vs Puppet's best — Puppet 7 has no bulk signing,
 *       so its best is concurrent single signs, at the concurrency a sweep found fastest in this run;
 *   (c) revoking certificates one at a time and serving the CRL, with 1,500 and with 50,000 already
 *       revoked: revokeClientCertificate(id) vs {"desired_state":"revoked"}, counted until the CRL
 *       fetched (certfleet's GET /agent/v1/crl, Puppet's GET certificate_revocation_list/ca) lists the
 *       last serial revoked.
 *
 * Runs only where puppetserver is installed (Debian: apt-get install puppetserver) and this process is
 * root or the puppet user; otherwise it prints one line saying why and succeeds. See bench/README.md
 * for how the states are made (Puppet's CRL of 50,000 entries is written with `openssl ca -gencrl`
 * with its CA key; certfleet's already-revoked certificates are plain SQL rows).
 *
 * certfleet runs on a scratch database of its own on the PostgreSQL server DATABASE_URL names (created
 * and dropped here), in a process of its own as `npm start` runs it; when DATABASE_URL is unset, on the
 * embedded database in this process (startCore), sharing it with the benchmark's client. Puppet runs as its package runs it (the java command of `puppetserver
 * foreground`, default heap), with a fresh CA in a temp directory (bench/peer/puppet.ts).
 *
 * Usage: npx tsx bench/peer.bench.ts [--quick] [--count N] [--rounds R] [--revokes K] [--revoke-rounds Q]
 *          [--levels 1500,50000] [--concurrency 1,2,4,8,16,32,64] [--sweep S]
 * Writes bench/results/peer.json (BENCH_RESULTS_DIR instead when set; a --quick run only there).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { redactUrl } from '../src/config.js';
import { machine, positiveNumber, resultsDir, runBenchMain, sourceVersion, UsageError } from './bench-common.js';
import { BATCH, chunks, pool } from './issuance/core.js';
import {
  approveMany,
  approveOne,
  childProcessCore,
  countRevoked,
  crlFetcher,
  crlSerials,
  inProcessCore,
  makeCsrs,
  normalSerial,
  revokeOne,
  seedRevoked,
  type CertfleetTarget,
} from './peer/certfleet.js';
import { startPuppet, whyNoPuppet, type PuppetHandle } from './peer/puppet.js';
import type { PuppetCaClient } from './peer/puppet-ca-client.js';

const here = dirname(fileURLToPath(import.meta.url));

/** GOALS: certfleet's rate over Puppet's, at least. */
export const PEER_GOALS = { single: 2, batch: 30, revoke: 2 } as const;

const USAGE = `Usage: npx tsx bench/peer.bench.ts [--quick] [--count N] [--rounds R] [--revokes K] [--revoke-rounds Q]
                                 [--levels 1500,50000] [--concurrency 1,2,4,8,16,32,64] [--sweep S]
  --count N         certificates each side signs one at a time, and again in batches (default 1000; quick 100; a multiple of ${BATCH})
  --rounds R        interleaved signing rounds (default 2; quick 1)
  --revokes K       certificates each side revokes at each level (default 500; quick 20)
  --revoke-rounds Q interleaved revocation rounds per level (default 2; quick 1)
  --levels L,...    already-revoked counts to revoke at (default 1500,50000)
  --concurrency C,… Puppet concurrencies the sweep tries (default 1,2,4,8,16,32,64)
  --sweep S         signs per concurrency in the sweep (default 100; quick 40)
Needs puppetserver installed and root (or the puppet user); otherwise prints why and exits 0.`;

interface Args {
  quick: boolean;
  count: number;
  rounds: number;
  revokes: number;
  revokeRounds: number;
  levels: number[];
  concurrency: number[];
  sweep: number;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      count: { type: 'string' },
      rounds: { type: 'string' },
      revokes: { type: 'string' },
      'revoke-rounds': { type: 'string' },
      levels: { type: 'string' },
      concurrency: { type: 'string' },
      sweep: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const list = (raw: string, name: string) => raw.split(',').map((s) => positiveNumber(s.trim(), name));
  const a: Args = {
    quick,
    count: values.count ? positiveNumber(values.count, '--count') : quick ? 100 : 1000,
    rounds: values.rounds ? positiveNumber(values.rounds, '--rounds') : quick ? 1 : 2,
    revokes: values.revokes ? positiveNumber(values.revokes, '--revokes') : quick ? 20 : 500,
    revokeRounds: values['revoke-rounds'] ? positiveNumber(values['revoke-rounds'], '--revoke-rounds') : quick ? 1 : 2,
    levels: list(values.levels ?? '1500,50000', '--levels'),
    concurrency: list(values.concurrency ?? '1,2,4,8,16,32,64', '--concurrency'),
    sweep: values.sweep ? positiveNumber(values.sweep, '--sweep') : quick ? 40 : 100,
  };
  if (a.count % (BATCH * a.rounds) !== 0) throw new UsageError(`--count must be a multiple of ${BATCH} × --rounds (got ${a.count})`);
  if (a.revokes % a.revokeRounds !== 0) throw new UsageError(`--revokes must be a multiple of --revoke-rounds (got ${a.revokes})`);
  if (a.levels.length * (a.revokes + 1) > 2 * a.count) throw new UsageError('--revokes × levels needs more signed certificates: raise --count');
  return a;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const now = () => performance.now();
const load1 = () => Number(loadavg()[0]!.toFixed(2));

/** Timed is one timed piece: how many items, how long. */
interface Timed {
  items: number;
  seconds: number;
  load: number;
}
const rateOf = (ts: Timed[]) => sum(ts.map((t) => t.items)) / sum(ts.map((t) => t.seconds));

export interface PeerResult {
  benchmark: 'peer';
  skipped?: string;
  quick?: boolean;
  date?: string;
  command?: string;
  machine?: ReturnType<typeof machine>;
  source?: ReturnType<typeof sourceVersion>;
  database?: string;
  puppet?: { version: string; startSeconds: number; rssBytes: number; heap: string; caKey: string };
  certfleetRssBytes?: number;
  certfleetWhere?: string;
  args?: Args;
  sweep?: { concurrency: number; perSecond: number }[];
  bestConcurrency?: number;
  single?: { certfleet: { perSecond: number; rounds: Timed[] }; puppet: { perSecond: number; rounds: Timed[] }; ratio: number; goal: number; met: boolean };
  batch?: { certfleet: { perSecond: number; rounds: Timed[] }; puppet: { perSecond: number; concurrency: number; rounds: Timed[] }; ratio: number; goal: number; met: boolean };
  revoke?: {
    level: number;
    certfleet: { perSecond: number; rounds: (Timed & { revokedBefore: number; crlFetches: number })[] };
    puppet: { perSecond: number; rounds: (Timed & { revokedBefore: number; crlFetches: number })[]; crlEntriesAtStart: number };
    ratio: number;
    goal: number;
    met: boolean;
  }[];
  loadAverages?: number[];
  seconds?: number;
}

function write(result: PeerResult, quick: boolean): string | null {
  const dir = process.env.BENCH_RESULTS_DIR || (quick ? null : resultsDir(here));
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'peer.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** untilCrlLists fetches a CRL until it names serial; returns how many fetches it took. */
async function untilCrlLists(fetchCrl: () => Promise<string>, serial: string, timeoutMs = 300_000): Promise<number> {
  const want = normalSerial(serial);
  const deadline = Date.now() + timeoutMs;
  for (let n = 1; ; n++) {
    if (crlSerials(await fetchCrl()).has(want)) return n;
    if (Date.now() > deadline) throw new Error(`the CRL did not list ${serial} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runPeerBench(a: Args): Promise<void> {
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const why = whyNoPuppet();
  if (why) {
    log(`peer (Puppet Server's CA): skipped — ${why}`);
    write({ benchmark: 'peer', skipped: why }, true);
    return;
  }
  const started = new Date();
  const loads: number[] = [load1()];
  const host = machine();
  // The commit measured: read now, before anything can change the checkout during a long run.
  const source = sourceVersion();
  const command = `npx tsx bench/peer.bench.ts ${process.argv.slice(2).join(' ')}`.trim();
  log(`peer benchmark: certfleet vs Puppet Server's CA; ${a.count} signs per mode per side in ${a.rounds} round(s), ${a.revokes} revocations per level ${a.levels.join(' / ')} in ${a.revokeRounds} round(s)`);
  log(`machine: ${host.nproc} CPUs (${host.cpuModel}), Node ${host.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // certfleet's database: a scratch database of its own on the server DATABASE_URL names, or embedded.
  const baseUrl = process.env.DATABASE_URL;
  const scratch = `certfleet_peer_${started.toISOString().replace(/[-:T]/g, '').slice(0, 14)}_${process.pid}`;
  const scratchUrl = baseUrl ? Object.assign(new URL(baseUrl), { pathname: `/${scratch}` }).toString() : undefined;
  const admin = baseUrl ? postgres(baseUrl, { max: 1, onnotice: () => {} }) : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'certfleet-peer-'));
  let core: CertfleetTarget | undefined;
  let puppet: PuppetHandle | undefined;
  const clients: { close(): void }[] = [];
  try {
    if (admin) await admin.unsafe(`create database "${scratch}"`); // a name made here from digits
    const database = scratchUrl ? `PostgreSQL (${redactUrl(scratchUrl)}, created for this run)` : `embedded (PGlite, in ${dataDir})`;
    log(`certfleet database: ${database}`);
    // Puppet starts (about a minute of its own CPU) while certfleet's requests are made.
    const puppetStarting = startPuppet({ log });
    puppetStarting.catch(() => {}); // awaited below
    core = scratchUrl ? await childProcessCore(dataDir, scratchUrl) : await inProcessCore(dataDir, undefined);
    log(`certfleet core: ${core.where}`);

    const W = 20;
    const N = a.count;
    const sweepTotal = a.sweep * a.concurrency.length;
    log(`setup: ${W + 2 * N} certfleet requests and ${W + 2 * N + sweepTotal} Puppet CSRs (EC P-256, made as the agent client makes them; not timed)`);
    const cfIds = await core.enroll(`peer-cf-${process.pid}`, W + 2 * N);
    const ppNames = Array.from({ length: W + 2 * N + sweepTotal }, (_, i) => `peer-pp-${String(i).padStart(6, '0')}`);
    const ppCsrs = await makeCsrs(core, ppNames);
    puppet = await puppetStarting;
    loads.push(load1());
    log(`Puppet Server up in ${puppet.startSeconds.toFixed(1)} s (CA answering), RSS ${(puppet.rssBytes() / 2 ** 20).toFixed(0)} MiB`);
    const pp = puppet.client;
    await pool(ppNames.map((n, i) => [n, ppCsrs[i]!] as const), 4, ([n, csr]) => pp.submitCsr(n, csr));

    // Warm-up, both sides (not timed).
    let cfNext = 0;
    let ppNext = 0;
    const cfTake = (n: number) => cfIds.slice(cfNext, (cfNext += n));
    const ppTake = (n: number) => ppNames.slice(ppNext, (ppNext += n));
    for (const id of cfTake(W / 2)) await approveOne(core, id);
    await approveMany(core, cfTake(W / 2));
    for (const n of ppTake(W)) await pp.sign(n);

    // Puppet's best concurrency: a sweep, each level with its own connection pool.
    log('\n== Puppet: concurrent single signs, sweep');
    const sweep: { concurrency: number; perSecond: number }[] = [];
    for (const c of a.concurrency) {
      const client = puppet.newClient(c);
      clients.push(client);
      const names = ppTake(a.sweep);
      const t0 = now();
      await pool(names, c, (n) => client.sign(n));
      const perSecond = names.length / ((now() - t0) / 1000);
      sweep.push({ concurrency: c, perSecond });
      log(`  concurrency ${String(c).padStart(3)}: ${perSecond.toFixed(1)} signs/s`);
      client.close();
    }
    const best = sweep.reduce((x, y) => (y.perSecond > x.perSecond ? y : x)).concurrency;
    log(`  best: ${best}`);
    const ppBest = puppet.newClient(best);
    clients.push(ppBest);
    loads.push(load1());

    // Signing rounds, interleaved; the order of the four parts rotates each round.
    log('\n== signing, interleaved');
    const per = N / a.rounds;
    const cfSingle: Timed[] = [];
    const ppSingle: Timed[] = [];
    const cfBatch: Timed[] = [];
    const ppBatch: Timed[] = [];
    const cfSigned: string[] = [];
    const ppSigned: string[] = [];
    const parts: [string, () => Promise<Timed>][] = [
      ['certfleet one at a time', async () => {
        const ids = cfTake(per);
        const t0 = now();
        for (const id of ids) await approveOne(core!, id);
        const t = { items: ids.length, seconds: (now() - t0) / 1000, load: load1() };
        cfSingle.push(t), cfSigned.push(...ids);
        return t;
      }],
      ['Puppet one at a time', async () => {
        const names = ppTake(per);
        const t0 = now();
        for (const n of names) await pp.sign(n);
        const t = { items: names.length, seconds: (now() - t0) / 1000, load: load1() };
        ppSingle.push(t), ppSigned.push(...names);
        return t;
      }],
      ['certfleet batches of 100', async () => {
        const ids = cfTake(per);
        const t0 = now();
        for (const batch of chunks(ids, BATCH)) await approveMany(core!, batch);
        const t = { items: ids.length, seconds: (now() - t0) / 1000, load: load1() };
        cfBatch.push(t), cfSigned.push(...ids);
        return t;
      }],
      [`Puppet concurrent (${best})`, async () => {
        const names = ppTake(per);
        const t0 = now();
        await pool(names, best, (n) => ppBest.sign(n));
        const t = { items: names.length, seconds: (now() - t0) / 1000, load: load1() };
        ppBatch.push(t), ppSigned.push(...names);
        return t;
      }],
    ];
    for (let r = 0; r < a.rounds; r++) {
      for (let k = 0; k < parts.length; k++) {
        const [name, fn] = parts[(k + r) % parts.length]!;
        const t = await fn();
        log(`  round ${r + 1} ${name.padEnd(26)} ${(t.items / t.seconds).toFixed(1).padStart(8)} /s  (${t.items} in ${t.seconds.toFixed(2)} s, load ${t.load})`);
      }
    }
    loads.push(load1());
    const single = {
      certfleet: { perSecond: rateOf(cfSingle), rounds: cfSingle },
      puppet: { perSecond: rateOf(ppSingle), rounds: ppSingle },
      ratio: rateOf(cfSingle) / rateOf(ppSingle),
      goal: PEER_GOALS.single,
      met: rateOf(cfSingle) / rateOf(ppSingle) >= PEER_GOALS.single,
    };
    const batch = {
      certfleet: { perSecond: rateOf(cfBatch), rounds: cfBatch },
      puppet: { perSecond: rateOf(ppBatch), concurrency: best, rounds: ppBatch },
      ratio: rateOf(cfBatch) / rateOf(ppBatch),
      goal: PEER_GOALS.batch,
      met: rateOf(cfBatch) / rateOf(ppBatch) >= PEER_GOALS.batch,
    };

    // Revocation: the serials of Puppet's certificates to revoke (not timed).
    const ppSerial = new Map<string, string>();
    const ppPool = ppSigned.slice(0, a.levels.length * (a.revokes + 1));
    await pool(ppPool, 4, async (n) => {
      ppSerial.set(n, new X509Certificate(await pp.certificate(n)).serialNumber);
    });
    const cfPool = cfSigned.slice(0, a.levels.length * (a.revokes + 1));
    const cfCrl = crlFetcher(core);
    clients.push(cfCrl);
    const revoke: NonNullable<PeerResult['revoke']> = [];
    let seedFrom = 1;
    for (const level of a.levels) {
      log(`\n== revoking ${a.revokes} one at a time and serving the CRL, ${level.toLocaleString('en-US')} already revoked`);
      const cfIdsHere = cfPool.splice(0, a.revokes + 1);
      const ppHere = ppPool.splice(0, a.revokes + 1);
      const tSeed = now();
      const added = await seedRevoked(core, cfIds[0]!, level, seedFrom);
      seedFrom += added;
      const made = await puppet.setRevokedTo(level);
      log(`  state: certfleet +${added} SQL rows (${await countRevoked(core)} revoked); Puppet CRL rewritten with ${made.fabricated} made-up + ${made.real} real entries (${((now() - tSeed) / 1000).toFixed(1)} s)`);
      // Warm-up (not timed): one revocation each, and the CRL that names it.
      const cfWarm = await revokeOne(core, cfIdsHere.shift()!);
      await untilCrlLists(() => cfCrl.fetch(), cfWarm);
      const ppWarm = ppHere.shift()!;
      await pp.revoke(ppWarm);
      await untilCrlLists(() => pp.crl(), ppSerial.get(ppWarm)!);
      const ppEntries = crlSerials(await pp.crl()).size;
      const cfEntries = crlSerials(await cfCrl.fetch()).size;
      log(`  CRLs after the warm-up: certfleet ${cfEntries} entries, Puppet ${ppEntries}`);
      if (ppEntries < level || cfEntries < level) throw new Error(`a CRL lists fewer than ${level} entries: the state was not made`);
      const cfRounds: (Timed & { revokedBefore: number; crlFetches: number })[] = [];
      const ppRounds: (Timed & { revokedBefore: number; crlFetches: number })[] = [];
      const perR = a.revokes / a.revokeRounds;
      const sides: [string, () => Promise<void>][] = [
        ['certfleet', async () => {
          const ids = cfIdsHere.splice(0, perR);
          const revokedBefore = await countRevoked(core!);
          const t0 = now();
          let last = '';
          for (const id of ids) last = await revokeOne(core!, id);
          const crlFetches = await untilCrlLists(() => cfCrl.fetch(), last);
          cfRounds.push({ items: ids.length, seconds: (now() - t0) / 1000, load: load1(), revokedBefore, crlFetches });
        }],
        ['Puppet', async () => {
          const names = ppHere.splice(0, perR);
          const revokedBefore = crlSerials(await pp.crl()).size;
          const t0 = now();
          for (const n of names) await pp.revoke(n);
          const crlFetches = await untilCrlLists(() => pp.crl(), ppSerial.get(names.at(-1)!)!);
          ppRounds.push({ items: names.length, seconds: (now() - t0) / 1000, load: load1(), revokedBefore, crlFetches });
        }],
      ];
      for (let r = 0; r < a.revokeRounds; r++) {
        for (let k = 0; k < 2; k++) {
          const [name, fn] = sides[(k + r) % 2]!;
          await fn();
          const t = (name === 'certfleet' ? cfRounds : ppRounds).at(-1)!;
          log(`  round ${r + 1} ${name.padEnd(10)} ${(t.items / t.seconds).toFixed(2).padStart(8)} revocations/s  (${t.items} in ${t.seconds.toFixed(2)} s from ${t.revokedBefore} revoked, CRL fetched ${t.crlFetches}×, load ${t.load})`);
        }
      }
      const ratio = rateOf(cfRounds) / rateOf(ppRounds);
      revoke.push({
        level,
        certfleet: { perSecond: rateOf(cfRounds), rounds: cfRounds },
        puppet: { perSecond: rateOf(ppRounds), rounds: ppRounds, crlEntriesAtStart: ppEntries },
        ratio,
        goal: PEER_GOALS.revoke,
        met: ratio >= PEER_GOALS.revoke,
      });
      loads.push(load1());
    }

    const puppetRss = puppet.rssBytes();
    const result: PeerResult = {
      benchmark: 'peer',
      quick: a.quick,
      date: started.toISOString(),
      command: `${scratchUrl ? 'DATABASE_URL=… ' : ''}${command}`,
      machine: host,
      source,
      database: scratchUrl ? 'postgres' : 'embedded',
      puppet: { version: puppetVersion(), startSeconds: puppet.startSeconds, rssBytes: puppetRss, heap: 'package default (/etc/default/puppetserver JAVA_ARGS)', caKey: 'RSA-4096 (intermediate CA of puppetserver ca setup)' },
      certfleetRssBytes: core.rssBytes(),
      certfleetWhere: core.where,
      args: a,
      sweep,
      bestConcurrency: best,
      single,
      batch,
      revoke,
      loadAverages: loads,
      seconds: (Date.now() - started.getTime()) / 1000,
    };
    log('\n== results (certfleet vs Puppet Server, same run)');
    log(`  one at a time:  ${single.certfleet.perSecond.toFixed(1)} vs ${single.puppet.perSecond.toFixed(1)} /s = ${single.ratio.toFixed(2)} × (goal ≥ ${single.goal})`);
    log(`  batches:        ${batch.certfleet.perSecond.toFixed(1)} vs ${batch.puppet.perSecond.toFixed(1)} /s (Puppet at concurrency ${best}) = ${batch.ratio.toFixed(2)} × (goal ≥ ${batch.goal})`);
    for (const r of revoke) log(`  revoke @${r.level}: ${r.certfleet.perSecond.toFixed(2)} vs ${r.puppet.perSecond.toFixed(2)} /s = ${r.ratio.toFixed(2)} × (goal ≥ ${r.goal})`);
    log(`  Puppet RSS ${(puppetRss / 2 ** 20).toFixed(0)} MiB; certfleet core RSS ${(result.certfleetRssBytes! / 2 ** 20).toFixed(0)} MiB; ${result.seconds!.toFixed(0)} s`);
    const file = write(result, a.quick);
    if (file) log(`results: ${file}`);
  } finally {
    for (const c of clients) c.close();
    await puppet?.stop();
    await core?.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (admin) {
      await admin.unsafe(`drop database if exists "${scratch}" with (force)`).catch((err: Error) => log(`could not drop ${scratch}: ${err.message}`));
      await admin.end({ timeout: 5 });
    }
  }
}

function puppetVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'puppetserver'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

runBenchMain(import.meta.url, USAGE, async () => {
  await runPeerBench(parse(process.argv.slice(2)));
  // Timers of the core's pools must not keep a finished run alive.
  process.exit(0);
});
