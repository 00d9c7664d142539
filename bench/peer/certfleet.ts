// certfleet's side of the peer benchmark, through its public interfaces only: approveClient /
// approveClients / revokeClientCertificate over GraphQL, the CRL from the agent gateway
// (GET /agent/v1/crl, as agents fetch it), enrollment through the services or the gateway, and plain
// SQL rows for the already-revoked certificates.
//
// On PostgreSQL the core runs in a process of its own, as `npm start` runs it (like Puppet Server, and
// so the benchmark's HTTP client does not share its event loop); on the embedded database (one
// process only) it runs in the benchmark's process.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { createAgentClient, fetchCaCertificate } from '../../src/agent-client/agent-client.js';
import { loadConfig } from '../../src/config.js';
import { startCore } from '../../src/main.js';
import { issueToken } from '../../src/server/auth.js';
import { childrenOf, readNode, readRoot, TAG } from '../../src/pki/der.js';
import { benchCoreEnv, rssOf } from '../bench-common.js';
import { enrollPending, pool } from '../issuance/core.js';
import { freePort } from '../../src/faults/ports.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CertfleetTarget is a running core as the peer benchmark uses it. */
export interface CertfleetTarget {
  /** The GraphQL endpoint. */
  url: string;
  agentUrl: string;
  caPem: string;
  token: string;
  /** Where it runs and on what database, for the report. */
  where: string;
  /** enroll enrolls `count` agents with fresh EC P-256 keys (not timed) and returns their PENDING request ids. */
  enroll(prefix: string, count: number): Promise<string[]>;
  /** query runs one parameterised SQL statement on the core's database. */
  query(text: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  /** rssBytes is the core process's resident memory (this process's when the core runs in it). */
  rssBytes(): number;
  close(): Promise<void>;
}

/** inProcessCore starts a core in this process (the embedded database when databaseUrl is unset). */
export async function inProcessCore(dataDir: string, databaseUrl: string | undefined): Promise<CertfleetTarget> {
  const config = loadConfig(benchCoreEnv(dataDir, databaseUrl));
  const core = await startCore(config);
  const token = await issueToken(config.auth, { subject: 'peer-bench', roles: ['SECURITY_ADMIN'], ttlSeconds: 6 * 3600 });
  // The driver under drizzle: PGlite's query(text, params) or postgres.js's unsafe(text, params).
  const client = (core.database.db as unknown as {
    $client: { query?: (text: string, params: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>; unsafe?: (text: string, params: unknown[]) => Promise<Record<string, unknown>[]> };
  }).$client;
  return {
    url: core.url,
    agentUrl: core.agentUrl,
    caPem: core.authority.certificatePem,
    token,
    where: `in this process (startCore), ${core.database.kind} database`,
    enroll: (prefix, count) => enrollPending(core, prefix, count),
    async query(text, params) {
      if (client.query) return (await client.query(text, params)).rows;
      return [...(await client.unsafe!(text, params))];
    },
    rssBytes: () => process.memoryUsage().rss,
    close: () => core.close(),
  };
}

/** childProcessCore starts a core as `npm start` does (src/cli/start.ts), on the PostgreSQL database at databaseUrl. */
export async function childProcessCore(dataDir: string, databaseUrl: string): Promise<CertfleetTarget> {
  const port = await freePort();
  const agentPort = await freePort();
  const env = { ...process.env, ...benchCoreEnv(dataDir, databaseUrl, { HOST: '127.0.0.1', PORT: String(port), AGENT_PORT: String(agentPort), SHUTDOWN_DRAIN_MS: '0' }) };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/start.ts'], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  let gone: number | null | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => ((gone = code), resolve())));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (gone !== undefined) throw new Error(`the core exited (code ${gone}) before it was ready`);
      if (Date.now() > deadline) throw new Error('the core was not ready within 120 s');
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const agentUrl = `https://127.0.0.1:${agentPort}`;
    const caPem = (await fetchCaCertificate(agentUrl)).pem;
    const token = await issueToken(loadConfig(env).auth, { subject: 'peer-bench', roles: ['SECURITY_ADMIN'], ttlSeconds: 6 * 3600 });
    return {
      url: `http://127.0.0.1:${port}/graphql`,
      agentUrl,
      caPem,
      token,
      where: 'its own process (src/cli/start.ts, as npm start), PostgreSQL',
      async enroll(prefix, count) {
        const agentIds = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
        return pool(agentIds, 8, async (agentId) => {
          const agent = createAgentClient({ gatewayUrl: agentUrl, caCertificatePem: caPem, agentId, keyType: 'EC-P256' });
          try {
            const res = await agent.enroll();
            const body = res.body as { requestId?: string; status?: string };
            if (res.status !== 202 || body.status !== 'PENDING' || !body.requestId) throw new Error(`enrollment of ${agentId} answered ${res.status} ${JSON.stringify(body)}`);
            return body.requestId;
          } finally {
            agent.close();
          }
        });
      },
      query: async (text, params) => [...(await sql.unsafe(text, params as never[]))],
      rssBytes: () => rssOf(child.pid!),
      async close() {
        await sql.end({ timeout: 5 });
        child.kill('SIGTERM');
        const t = setTimeout(kill, 15_000);
        await exited;
        clearTimeout(t);
        process.removeListener('exit', kill);
      },
    };
  } catch (err) {
    await sql.end({ timeout: 1 });
    kill();
    throw err;
  }
}

/** makeCsrs makes EC P-256 keys and PKCS#10 requests (CN = name) as the agent client does; nothing is sent. */
export async function makeCsrs(target: { agentUrl: string; caPem: string }, names: string[]): Promise<string[]> {
  return pool(names, 8, async (agentId) => {
    const client = createAgentClient({ gatewayUrl: target.agentUrl, caCertificatePem: target.caPem, agentId, keyType: 'EC-P256' });
    try {
      return await client.csrPem();
    } finally {
      client.close();
    }
  });
}

async function graphql<T>(t: CertfleetTarget, query: string, variables: object): Promise<T> {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GraphQL answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors).slice(0, 300)}`);
  return body.data;
}

const APPROVE_ONE = `mutation A($id: ID!) { approveClient(id: $id) { id status serialNumber certificatePem } }`;
const APPROVE_MANY = `mutation M($ids: [ID!]!) { approveClients(ids: $ids) { approved { id status serialNumber certificatePem } failed { id code message } } }`;
const REVOKE_ONE = `mutation R($id: ID!) { revokeClientCertificate(id: $id) { id status serialNumber } }`;

/** approveOne approves one request with approveClient and returns its serial (fails unless APPROVED with a certificate). */
export async function approveOne(t: CertfleetTarget, id: string): Promise<string> {
  const { approveClient: c } = await graphql<{ approveClient: { status: string; serialNumber: string | null; certificatePem: string | null } }>(t, APPROVE_ONE, { id });
  if (c.status !== 'APPROVED' || !c.serialNumber || !c.certificatePem?.startsWith('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`approveClient(${id}) came back ${c.status} without a certificate`);
  }
  return c.serialNumber;
}

/** approveMany approves ids with one approveClients call; fails unless every id came back APPROVED with a certificate. */
export async function approveMany(t: CertfleetTarget, ids: string[]): Promise<void> {
  type Item = { id: string; status: string; serialNumber: string | null; certificatePem: string | null };
  const { approveClients: p } = await graphql<{ approveClients: { approved: Item[]; failed: { id: string; code: string }[] } }>(t, APPROVE_MANY, { ids });
  if (p.failed.length > 0) throw new Error(`approveClients refused ${p.failed.length} of ${ids.length}: ${JSON.stringify(p.failed.slice(0, 3))}`);
  const wanted = new Set(ids);
  for (const c of p.approved) {
    if (c.status !== 'APPROVED' || !c.serialNumber || !c.certificatePem?.startsWith('-----BEGIN CERTIFICATE-----')) throw new Error(`request ${c.id} came back ${c.status} without a certificate`);
    wanted.delete(c.id);
  }
  if (wanted.size > 0 || p.approved.length !== ids.length) throw new Error(`approveClients approved ${p.approved.length} of ${ids.length}`);
}

/** revokeOne revokes one certificate with revokeClientCertificate and returns its serial. */
export async function revokeOne(t: CertfleetTarget, id: string): Promise<string> {
  const { revokeClientCertificate: c } = await graphql<{ revokeClientCertificate: { status: string; serialNumber: string | null } }>(t, REVOKE_ONE, { id });
  if (c.status !== 'REVOKED' || !c.serialNumber) throw new Error(`revokeClientCertificate(${id}) came back ${c.status}`);
  return c.serialNumber;
}

/** crlFetcher gets the CRL agents download from the core's agent gateway (PEM), over one kept-alive connection. */
export function crlFetcher(t: CertfleetTarget): { fetch(): Promise<string>; close(): void } {
  const url = new URL('/agent/v1/crl', t.agentUrl);
  const agent = new Agent({ keepAlive: true, timeout: 3_000, maxSockets: 1, ca: t.caPem });
  const once = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request(url, { agent, method: 'GET' }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts).toString('utf8')) : reject(new Error(`GET ${url} answered ${res.statusCode}`))));
          res.on('error', reject);
        });
        req.on('error', (err: Error & { code?: string }) =>
          reject(Object.assign(err, { reusedSocket: req.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up') })),
        );
        req.end();
      });
  return {
    // A kept-alive connection the gateway closed just as it was reused: the GET is sent again once.
    fetch: () => once().catch((err: { reusedSocket?: boolean }) => (err.reusedSocket ? once() : Promise.reject(err))),
    close: () => agent.destroy(),
  };
}

/**
 * crlSerials lists the serial numbers (lower-case hex, no leading zero octets) the first CRL of a PEM
 * text names: a DER walk of tbsCertList's revokedCertificates (the SEQUENCE after signature and issuer).
 */
export function crlSerials(pem: string): Set<string> {
  const m = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/.exec(pem);
  if (!m) throw new Error('no X509 CRL in the PEM text');
  const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const tbs = childrenOf(der, readRoot(der))[0]!;
  const seqs = childrenOf(der, tbs).filter((n) => n.tag === TAG.SEQUENCE);
  const out = new Set<string>();
  const list = seqs[2]; // signature, issuer, revokedCertificates (absent when nothing is revoked)
  if (!list) return out;
  for (const entry of childrenOf(der, list)) {
    const serial = readNode(der, entry.contentStart, entry.end);
    if (serial.tag !== TAG.INTEGER) throw new Error('a CRL entry does not start with its serial number');
    out.add(normalSerial(der.subarray(serial.contentStart, serial.end).toString('hex')));
  }
  return out;
}

/** normalSerial writes a hex serial number without leading zeros, lower case, for comparing. */
export function normalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** countRevoked counts the revoked, unexpired certificates: what certfleet's CRL names. */
export async function countRevoked(t: CertfleetTarget): Promise<number> {
  const [row] = await t.query(`select count(*)::int as n from client_certificates where status = 'REVOKED' and not_after > now()`, []);
  return Number(row!.n);
}

/**
 * seedRevoked brings the revoked, unexpired certificates up to `total` with plain SQL rows: REVOKED,
 * valid for a year, serials '7f' + 30 hex digits of a counter starting at `from` (canonical and
 * positive; random serials clashing with them is not a practical worry), all on the device of
 * `onRequestId` with a distinct fingerprint each. The next CRL the core issues names them, as it would
 * real ones (a pending mark without ids asks for a full CRL). Returns how many rows it added.
 */
export async function seedRevoked(t: CertfleetTarget, onRequestId: string, total: number, from: number): Promise<number> {
  const add = Math.max(0, total - (await countRevoked(t)));
  if (add === 0) return 0;
  await t.query(
    `insert into client_certificates
       (device_id, status, subject, key_algorithm, public_key_fingerprint, csr_pem, requested_at, decided_at, decided_by,
        serial_number, not_before, not_after, revoked_at, revocation_reason)
     select c.device_id, 'REVOKED', 'CN=peer-bench-seeded', 'EC-P256',
            encode(sha256(convert_to('peer-bench-seeded-' || g, 'UTF8')), 'hex'), 'seeded by bench/peer: no request',
            now() - interval '2 days', now() - interval '2 days', 'peer-bench',
            '7f' || lpad(to_hex(g), 30, '0'), now() - interval '2 days', now() + interval '365 days',
            now() - interval '1 day', 'UNSPECIFIED'
     from client_certificates c, generate_series($1::bigint, $2::bigint) g
     where c.id = $3`,
    [from, from + add - 1, Number(onRequestId)],
  );
  // A pending mark without ids makes the next CRL a full one, naming these rows too (the CRL is
  // otherwise extended by the ids each revocation marks; drizzle/0010).
  await t.query('insert into crl_pending_revocations default values', []);
  return add;
}
