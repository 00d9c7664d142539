/**
 * The agent gateway's transport alone, against the gateway benchmark's bare server: server CPU per
 * resumed check-in with no database, to measure changes to the Node side of the request path
 * (listener, routes, body reading, answer) below the noise of the whole benchmark.
 *
 * In this process: the gateway's real TLS listener and answerer (startTlsListener, createAnswerer)
 * with services that inspect the presented certificate with the real signer (as the agent auth
 * service does on a new connection) and answer AUTHENTICATION_SUCCEEDED without a database; and
 * startBareServer. Load: a child of this script's own, C loops each sending `POST /agent/v1/connect`
 * on a new connection that resumes the TLS session. Runs alternate (gateway, bare, bare, gateway, …);
 * the figure is this process's CPU (process.cpuUsage) per answered request, median over rounds.
 *
 * Usage: npx tsx bench/gateway/transport-cpu.ts [--rounds R] [--duration S] [--concurrency C]
 *          [--profile DIR]
 *   (default 6 rounds of 3 s, 8 loops). Makes its CA and client certificate with `openssl`. --profile
 *   writes a CPU profile of this process per timed run, DIR/<gateway|bare>-NNN-<requests>.cpuprofile.
 *   GW_COUNT_RESOURCES=1 also prints the async resources (promises, ticks, handles) made per request,
 *   a count that, unlike CPU time, does not move with the machine's other load.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../../src/logger.js';
import { createCaSigner } from '../../src/pki/index.js';
import { startTlsListener } from '../../src/server/agent-gateway/listener.js';
import { createAnswerer, type AgentGatewayServices } from '../../src/server/agent-gateway/routes.js';
import { startProfiler } from '../bench-common.js';
import { startBareServer } from './bare-server.js';

interface Pki {
  caPem: string;
  caKeyPem: string;
  clientPem: string;
  clientKeyPem: string;
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'gw-transport-'));
  const sh = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    sh('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
    sh('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=transport bench CA', '-days', '2', '-out', 'ca.pem',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    sh('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'client.key');
    sh('req', '-new', '-key', 'client.key', '-subj', '/CN=agent-transport-1', '-out', 'client.csr');
    writeFileSync(join(dir, 'ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
    sh('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext', '-out', 'client.pem');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { caPem: read('ca.pem'), caKeyPem: read('ca.key'), clientPem: read('client.pem'), clientKeyPem: read('client.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the load child ----
async function child(): Promise<void> {
  let stop = true;
  let ok = 0;
  let resumed = 0;
  let errors = 0;
  let cfg: { pki: Pki; concurrency: number } | null = null;
  const agents = new Map<number, Agent>();
  const once = (port: number, agent: Agent) =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({ agentId: 'agent-transport-1', agentVersion: '1.0.0' });
      const req = request(
        {
          host: '127.0.0.1', port, path: '/agent/v1/connect', method: 'POST', agent, servername: 'localhost',
          ca: cfg!.pki.caPem, cert: cfg!.pki.clientPem, key: cfg!.pki.clientKeyPem, checkServerIdentity: () => undefined,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode === 200 && Buffer.concat(chunks).toString().includes('AUTHENTICATION_SUCCEEDED')) ok++;
            else errors++;
            if ((res.socket as import('node:tls').TLSSocket).isSessionReused()) resumed++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  process.on('message', async (m: { kind: string; port?: number; pki?: Pki; concurrency?: number }) => {
    if (m.kind === 'config') {
      cfg = { pki: m.pki!, concurrency: m.concurrency! };
      process.send!({ kind: 'ready' });
    } else if (m.kind === 'run') {
      const port = m.port!;
      let agent = agents.get(port);
      if (!agent) agents.set(port, (agent = new Agent({ keepAlive: false, maxCachedSessions: 100 })));
      ok = resumed = errors = 0;
      stop = false;
      const loops = Array.from({ length: cfg!.concurrency }, async () => {
        while (!stop) await once(port, agent!);
      });
      process.once('message', async () => {
        stop = true;
        await Promise.all(loops);
        process.send!({ kind: 'done', ok, resumed, errors });
      });
    } else if (m.kind === 'exit') process.exit(0);
  });
}

// ---- the servers and the timing ----
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string' }, duration: { type: 'string' }, concurrency: { type: 'string' }, profile: { type: 'string' } },
  });
  const rounds = Number(values.rounds ?? 6);
  const durationMs = Number(values.duration ?? 3) * 1000;
  const concurrency = Number(values.concurrency ?? 8);
  const profileDir = values.profile ?? null;
  let profileIndex = 0;
  const pki = makePki();
  const privateKey = createPrivateKey(pki.caKeyPem);
  const signer = await createCaSigner({ certificatePem: pki.caPem, privateKey });
  const serverCert = await signer.issueServerCertificate({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
  const log = createLogger('error');
  const services: AgentGatewayServices = {
    // Like the agent auth service on a new connection: the presented certificate inspected once, then an answer.
    authenticate: async (claim) => {
      const der = claim.presentedCertificate;
      const p = der ? signer.inspectPresentedCertificate(der, { chainVerifiedByTls: claim.chainVerifiedByTls === true }) : null;
      if (!p?.chainsToCa) return { httpStatus: 403, status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_UNTRUSTED' as never };
      return { httpStatus: 200, status: 'AUTHENTICATION_SUCCEEDED', reason: null };
    },
    fetchSecureData: async () => ({ kind: 'legacy', value: '' }),
    enroll: async () => {
      throw new Error('not here');
    },
    getEnrollment: async () => {
      throw new Error('not here');
    },
    currentCrlPem: async () => '',
    caCertificatePem: () => pki.caPem,
  };
  const gateway = await startTlsListener({
    host: '127.0.0.1',
    port: 0,
    tls: { certificatePem: serverCert.certificatePem, privateKeyPem: serverCert.privateKeyPem, caCertificatePem: pki.caPem },
    log,
    answer: createAnswerer(services, log),
  });
  const bare = await startBareServer({ certificatePem: pki.caPem, privateKey });

  const load: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: process.execArgv });
  const reply = <T>() => new Promise<T>((resolve) => load.once('message', (m) => resolve(m as T)));
  load.send({ kind: 'config', pki, concurrency });
  await reply();
  // GW_COUNT_RESOURCES=1: count the async resources (promises, handles) created per request, by type.
  const counts = new Map<string, number>();
  const { createHook } = await import('node:async_hooks');
  const hook = createHook({ init: (_id, type) => counts.set(type, (counts.get(type) ?? 0) + 1) });
  const run = async (port: number, profileAs?: string) => {
    counts.clear();
    if (process.env.GW_COUNT_RESOURCES) hook.enable();
    const done = reply<{ ok: number; resumed: number; errors: number }>();
    const profiler = profileDir && profileAs ? await startProfiler(100) : null;
    const cpu0 = process.cpuUsage();
    load.send({ kind: 'run', port });
    await new Promise((r) => setTimeout(r, durationMs));
    load.send({ kind: 'stop' });
    const r = await done;
    const cpu = process.cpuUsage(cpu0);
    hook.disable();
    if (process.env.GW_COUNT_RESOURCES && profileAs) {
      console.log(`  ${profileAs} async resources per request: ${[...counts].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${(n / r.ok).toFixed(2)}`).join(', ')}`);
    }
    if (profiler) await profiler.stop(join(profileDir!, `${profileAs}-${String(++profileIndex).padStart(3, '0')}-${r.ok}.cpuprofile`));
    return { ...r, usPerRequest: (cpu.user + cpu.system) / r.ok };
  };
  const targets = { gateway: gateway.port, bare: bare.port } as const;
  // Warm-up: sessions to resume, JIT.
  await run(targets.gateway);
  await run(targets.bare);
  const figures: Record<'gateway' | 'bare', number[]> = { gateway: [], bare: [] };
  for (let round = 0; round < rounds; round++) {
    const order: ('gateway' | 'bare')[] = round % 2 === 0 ? ['gateway', 'bare'] : ['bare', 'gateway'];
    const line: string[] = [];
    for (const t of order) {
      const r = await run(targets[t], t);
      figures[t].push(r.usPerRequest);
      line.push(`${t} ${r.usPerRequest.toFixed(0)} µs/req (${r.ok} ok, ${r.resumed} resumed, ${r.errors} errors)`);
    }
    console.log(`round ${round + 1}: ${line.join('; ')}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const g = median(figures.gateway);
  const b = median(figures.bare);
  const paired = median(figures.gateway.map((x, i) => x - figures.bare[i]!));
  console.log(`median server CPU per request: gateway ${g.toFixed(0)} µs, bare ${b.toFixed(0)} µs, difference ${(g - b).toFixed(0)} µs (median of the rounds' differences ${paired.toFixed(0)} µs)`);
  load.send({ kind: 'exit' });
  await gateway.close();
  bare.server.close();
}

if (process.argv.includes('--child')) void child();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
