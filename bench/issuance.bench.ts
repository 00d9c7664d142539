/**
 * Certificate issuance benchmark: certificates per second through the real GraphQL API
 * (`approveClients`) of an in-process core, against two baselines measured in the same run:
 *
 *  1. raw node:crypto ECDSA P-256 signing of a ~400-byte buffer (the signature alone), and
 *  2. pure node-forge building and signing X.509 certificates (RSA-2048: forge has no ECDSA).
 *
 * The machine is shared, so the three measurements are interleaved: round r times the r-th
 * approveClients call of 100 ids, then 100 raw signatures, then 100 forge certificates (the order
 * rotates each round). Load that comes and goes then weighs on all three alike, and the ratios hold.
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
 */
import 'reflect-metadata';
import { generateKeyPairSync, randomBytes, sign as cryptoSign, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as x509 from '@peculiar/x509';
import forge from 'node-forge';
import { createAgentClient } from '../src/agent-client/agent-client.js';
import { loadConfig, redactUrl } from '../src/config.js';
import { startCore, type CoreHandle } from '../src/main.js';
import { createCaSigner, parseCertificateRequest } from '../src/pki/index.js';
import { issueToken } from '../src/server/auth.js';
import { benchCoreEnv, machine, sourceVersion, startProfiler, writeResults } from './bench-common.js';

x509.cryptoProvider.set(webcrypto);

const BATCH = 100; // ids per approveClients call, and the size of one interleaved round
const GOAL_VS_RAW = 0.5;
const GOAL_VS_FORGE = 10;

// ---------------------------------------------------------------------------------------------
// Arguments and small helpers
// ---------------------------------------------------------------------------------------------

interface Args {
  count: number;
  breakdown: boolean;
  /** Directory for CPU profiles of the timed approveClients calls, or null. */
  profileDir: string | null;
}

const USAGE = 'usage: npx tsx bench/issuance.bench.ts [--count N] [--quick] [--no-breakdown] [--profile DIR]';

function parseArgs(argv: string[]): Args {
  let count: number | undefined;
  let quick = false;
  let breakdown = true;
  let profileDir: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--no-breakdown') breakdown = false;
    else if (a === '--profile') {
      const dir = argv[++i];
      if (!dir) throw new Error('--profile needs a directory');
      profileDir = resolve(dir);
    } else if (a === '--count' || a.startsWith('--count=')) {
      const raw = a.includes('=') ? a.slice('--count='.length) : argv[++i];
      if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1) {
        throw new Error(`--count needs a positive whole number (got ${JSON.stringify(raw)})`);
      }
      count = Number(raw);
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(a)} (${USAGE})`);
    }
  }
  return { count: count ?? (quick ? 200 : 2000), breakdown, profileDir };
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

/** pool runs fn over items with at most `width` in flight, keeping the order of results. */
async function pool<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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

// ---------------------------------------------------------------------------------------------
// Setup: a real core and N pending requests (not timed)
// ---------------------------------------------------------------------------------------------

/** SQL statements the core sent (startCore's onQuery hook: SQL text only, no parameters). */
let queryCount = 0;

async function startBenchCore(dataDir: string): Promise<{ core: CoreHandle; token: string; database: string }> {
  const env = benchCoreEnv(dataDir, process.env.DATABASE_URL);
  const config = loadConfig(env);
  const core = await startCore(config, { onQuery: () => void queryCount++ });
  const token = await issueToken(config.auth, { subject: 'bench', roles: ['SECURITY_ADMIN'], ttlSeconds: 3600 });
  const database =
    core.database.kind === 'postgres'
      ? `PostgreSQL (${redactUrl(process.env.DATABASE_URL!)})`
      : `embedded (PGlite, in ${join(dataDir, 'pgdata')})`;
  return { core, token, database };
}

/** makeCsrs makes EC P-256 keys and PKCS#10 requests exactly as the agent client does (its csrPem()). */
async function makeCsrs(core: CoreHandle, agentIds: string[]): Promise<string[]> {
  return pool(agentIds, 8, async (agentId) => {
    const client = createAgentClient({
      gatewayUrl: core.agentUrl,
      caCertificatePem: core.authority.certificatePem,
      agentId,
      keyType: 'EC-P256',
    });
    try {
      return await client.csrPem();
    } finally {
      client.close();
    }
  });
}

/** enrollPending enrolls `count` new agents (CSR from a fresh EC P-256 key each) and returns their PENDING request ids. */
async function enrollPending(core: CoreHandle, prefix: string, count: number): Promise<string[]> {
  const agentIds = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
  const csrs = await makeCsrs(core, agentIds);
  return pool(
    agentIds.map((agentId, i) => ({ agentId, csrPem: csrs[i]! })),
    8,
    async ({ agentId, csrPem }) => {
      const res = await core.services.clientAccess.enroll({
        agentId,
        deviceName: agentId.toUpperCase(),
        agentVersion: '2024.1',
        csrPem,
        remoteAddress: '127.0.0.1',
        presentedCertificate: null,
      });
      if (res.status !== 'PENDING') throw new Error(`enrollment of ${agentId} came back ${res.status}, expected PENDING`);
      return res.requestId;
    },
  );
}

// ---------------------------------------------------------------------------------------------
// 1. End to end: approveClients over HTTP
// ---------------------------------------------------------------------------------------------

const APPROVE = `mutation Approve($ids: [ID!]!) {
  approveClients(ids: $ids) {
    approved { id status serialNumber certificatePem }
    failed { id code message }
  }
}`;

interface ApproveResponse {
  data?: {
    approveClients: {
      approved: { id: string; status: string; serialNumber: string | null; certificatePem: string | null }[];
      failed: { id: string; code: string; message: string }[];
    };
  } | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** approveOverHttp calls approveClients(ids) and fails loudly unless every id came back APPROVED with a certificate. */
async function approveOverHttp(core: CoreHandle, token: string, ids: string[]): Promise<void> {
  const res = await fetch(core.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: APPROVE, variables: { ids } }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`approveClients answered HTTP ${res.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as ApproveResponse;
  if (body.errors?.length || !body.data) throw new Error(`approveClients failed: ${JSON.stringify(body.errors).slice(0, 500)}`);
  const payload = body.data.approveClients;
  if (payload.failed.length > 0) {
    throw new Error(`approveClients refused ${payload.failed.length} of ${ids.length}: ${JSON.stringify(payload.failed.slice(0, 3))}`);
  }
  const wanted = new Set(ids);
  for (const item of payload.approved) {
    if (item.status !== 'APPROVED' || !item.serialNumber || !item.certificatePem?.startsWith('-----BEGIN CERTIFICATE-----')) {
      throw new Error(`request ${item.id} came back ${item.status} without a certificate`);
    }
    wanted.delete(item.id);
  }
  if (wanted.size > 0 || payload.approved.length !== ids.length) {
    throw new Error(`approveClients approved ${payload.approved.length} of ${ids.length}; missing: ${[...wanted].slice(0, 5).join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Baseline: raw node:crypto ECDSA P-256 signatures
// ---------------------------------------------------------------------------------------------

function rawSigner() {
  // Same kind of key as the core CA (EC P-256); made here so the baseline needs nothing from the core.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tbs = randomBytes(400);
  let sink = 0;
  return {
    run(count: number) {
      for (let i = 0; i < count; i++) sink += cryptoSign('sha256', tbs, privateKey).length;
      if (sink === 0) throw new Error('no signatures');
    },
    bytesSigned: tbs.length,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Baseline: pure node-forge certificates (RSA-2048)
// ---------------------------------------------------------------------------------------------

function forgeIssuer() {
  const pki = forge.pki;
  // CA key made natively (fast), then handed to forge; forge does all of the certificate work and the signing.
  const caNode = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caKey = pki.privateKeyFromPem(caNode.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const caSubject = [{ name: 'commonName', value: 'bench-core certfleet CA' }];
  const caCert = pki.createCertificate();
  caCert.publicKey = pki.publicKeyFromPem(caNode.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  caCert.serialNumber = '01';
  caCert.validity.notBefore = new Date();
  caCert.validity.notAfter = new Date(Date.now() + 3650 * 86_400_000);
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(caKey, forge.md.sha256.create());
  const caKeyId = caCert.generateSubjectKeyIdentifier().getBytes();

  // Subject keys: a few native RSA-2048 keys used in turn (the subject key does not change the signing cost).
  const subjectKeys = Array.from({ length: 4 }, () =>
    pki.publicKeyFromPem(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  );

  // The same content as the core's client certificates: random 16-octet serial, 5-minute backdate,
  // CN = agent id, basicConstraints, keyUsage, extKeyUsage clientAuth, SKI, AKI; PEM out.
  let n = 0;
  const issueOne = (): string => {
    const i = n++;
    const cert = pki.createCertificate();
    cert.publicKey = subjectKeys[i % subjectKeys.length]!;
    const serial = randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x01;
    cert.serialNumber = serial.toString('hex');
    const t = Date.now();
    cert.validity.notBefore = new Date(t - 5 * 60_000);
    cert.validity.notAfter = new Date(t + 365 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: `agent-${i}` }]);
    cert.setIssuer(caSubject);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: caKeyId },
    ]);
    cert.sign(caKey, forge.md.sha256.create());
    return pki.certificateToPem(cert);
  };

  // Check once that forge makes a certificate Node parses and the CA key verifies.
  const check = new X509Certificate(issueOne());
  if (!check.verify(caNode.publicKey) || !check.subject.includes('agent-0')) {
    throw new Error('the node-forge baseline made a certificate that does not verify');
  }
  let sink = 0;
  return {
    run(count: number) {
      for (let i = 0; i < count; i++) sink += issueOne().length;
      if (sink === 0) throw new Error('no certificates');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Diagnosis: where does the end-to-end time go? (after the timed part, not part of the goals)
// ---------------------------------------------------------------------------------------------

async function measureBreakdown(core: CoreHandle, token: string, csrPems: string[], pendingIds: string[]) {
  const n = csrPems.length;
  const signer = await createCaSigner({ certificatePem: core.authority.certificatePem, privateKey: core.authority.privateKey });
  const parsed = await Promise.all(csrPems.map((pem) => parseCertificateRequest(pem)));
  const issueParsed = (csr: (typeof parsed)[number]) =>
    signer.issueClientCertificate({ subjectCommonName: csr.subjectCommonName, publicKeySpki: csr.publicKeySpki, validityDays: 365 });
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    core.authority.privateKey.export({ type: 'pkcs8', format: 'der' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const tbs = randomBytes(400);
  const webSign = () => webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, caKey, tbs);
  // Warm-up.
  for (let i = 0; i < Math.min(100, n); i++) {
    await issueParsed(parsed[i]!);
    await parseCertificateRequest(csrPems[i]!);
    await webSign();
  }

  // a) The core's signer alone: DER encoding + WebCrypto ECDSA (async, libuv thread pool) per certificate.
  let t0 = now();
  for (const csr of parsed) await issueParsed(csr);
  const signerMs = now() - t0;
  // b) WebCrypto ECDSA sign alone (what the signer calls), one at a time, 400 bytes.
  t0 = now();
  for (let i = 0; i < n; i++) await webSign();
  const webcryptoMs = now() - t0;
  // c) CSR parsing + proof-of-possession check, which issue() repeats for every approval.
  t0 = now();
  for (const pem of csrPems) await parseCertificateRequest(pem);
  const csrMs = now() - t0;

  // d) The same approvals with and without HTTP + GraphQL, interleaved call by call.
  const caller = { subject: 'bench', roles: ['SECURITY_ADMIN' as const] };
  let httpMs = 0;
  let serviceMs = 0;
  let httpCount = 0;
  let serviceCount = 0;
  let serviceQueries = 0;
  const batches = chunks(pendingIds, BATCH);
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!;
    if (b % 2 === 0) {
      const s = now();
      await approveOverHttp(core, token, batch);
      httpMs += now() - s;
      httpCount += batch.length;
    } else {
      const q0 = queryCount;
      const s = now();
      const r = await core.services.clientAccess.approveMany(caller, batch);
      serviceMs += now() - s;
      serviceQueries += queryCount - q0;
      if (r.failed.length > 0 || r.approved.length !== batch.length) {
        throw new Error(`in-process approveMany failed: ${JSON.stringify(r.failed.slice(0, 3))}`);
      }
      serviceCount += batch.length;
    }
  }
  const per = (count: number, ms: number) => ({ count, ms, perSecond: rate(count, ms), msEach: ms / count });
  return {
    signerIssueClientCertificate: per(n, signerMs),
    webcryptoEcdsaSign: per(n, webcryptoMs),
    parseCertificateRequest: per(n, csrMs),
    approveClientsOverHttp: per(httpCount, httpMs),
    approveManyInProcess: { ...per(serviceCount, serviceMs), sqlStatementsPerCertificate: serviceQueries / serviceCount },
  };
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
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
    const { token, database } = booted;
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
    log(`setup: ${warmup + N + breakdownN} pending requests enrolled in ${fmt((now() - t0) / 1000, 1)} s (not timed)`);
    const raw = rawSigner();
    const forgeCa = forgeIssuer();

    // Warm-up, each measurement on its own.
    for (const batch of chunks(warmupIds, BATCH)) await approveOverHttp(core, token, batch);
    raw.run(Math.max(500, warmup * 5));
    forgeCa.run(Math.max(10, Math.ceil(warmup / 5)));

    // Timed, interleaved rounds.
    const batches = chunks(ids, BATCH);
    const callMs: number[] = [];
    let e2eMs = 0;
    let rawMs = 0;
    let forgeMs = 0;
    const q0 = queryCount;
    const steps = ['e2e', 'raw', 'forge'] as const;
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
    const queries = queryCount - q0;

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

    let breakdown: Awaited<ReturnType<typeof measureBreakdown>> | null = null;
    if (breakdownN > 0) {
      const csrPems = await makeCsrs(core, Array.from({ length: breakdownN / 2 }, (_, i) => `parse-${i}`));
      breakdown = await measureBreakdown(core, token, csrPems, breakdownIds);
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
    const vsForge = e2e.perSecond / forgeResult.perSecond;
    const metRaw = vsRaw >= GOAL_VS_RAW;
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
      interleaved: 'round r: approveClients call r, 100 raw signatures, 100 forge certificates; order rotates',
      profiled: args.profileDir !== null,
      endToEnd: e2e,
      rawSign: rawResult,
      forge: forgeResult,
      ratios: { endToEndOverRaw: vsRaw, endToEndOverForge: vsForge },
      goals: {
        endToEndOverRaw: { goal: GOAL_VS_RAW, met: metRaw },
        endToEndOverForge: { goal: GOAL_VS_FORGE, met: metForge },
      },
      breakdown,
    };
    const written = writeResults(here, 'issuance', dbKind, result, args.profileDir);

    log('');
    log(`end to end / raw signing: ${fmtRatio(vsRaw)} (goal ≥ ${GOAL_VS_RAW}): ${metRaw ? 'MET' : 'NOT MET'}`);
    log(`end to end / node-forge:  ${fmtRatio(vsForge)} (goal ≥ ${GOAL_VS_FORGE}): ${metForge ? 'MET' : 'NOT MET'}`);
    log('');
    log('| what was measured | baseline | figure | baseline figure | ratio | goal | met? |');
    log('|---|---|---|---|---|---|---|');
    const what = `issuance end to end: \`approveClients\` over HTTP, calls of ${BATCH}, ${dbKind} database`;
    log(
      `| ${what} | raw \`crypto.sign\`, ECDSA P-256, ${raw.bytesSigned} B | ${fmt(e2e.perSecond, 1)} certs/s | ` +
        `${fmt(rawResult.perSecond)} sigs/s | ${fmtRatio(vsRaw)} | ≥ ${GOAL_VS_RAW} | ${metRaw ? 'yes' : 'no'} |`,
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

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  if (err instanceof Error && err.cause) console.error('cause:', err.cause);
  process.exit(1);
});
