// certfleet's side of the peer benchmark, through its public interfaces only: approveClient /
// approveClients / revokeClientCertificate over GraphQL, the CRL from the agent gateway
// (GET /agent/v1/crl, as agents fetch it), and plain SQL rows for the already-revoked certificates.
import { Agent, request } from 'node:https';
import { sql } from 'drizzle-orm';
import type { CoreHandle } from '../../src/main.js';
import { childrenOf, readNode, readRoot, TAG } from '../../src/pki/der.js';

async function graphql<T>(core: CoreHandle, token: string, query: string, variables: object): Promise<T> {
  const res = await fetch(core.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GraphQL answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors).slice(0, 300)}`);
  return body.data;
}

const APPROVE_ONE = `mutation A($id: ID!) { approveClient(id: $id) { id status serialNumber certificatePem } }`;
const REVOKE_ONE = `mutation R($id: ID!) { revokeClientCertificate(id: $id) { id status serialNumber } }`;

/** approveOne approves one request with approveClient and returns its serial (fails unless APPROVED with a certificate). */
export async function approveOne(core: CoreHandle, token: string, id: string): Promise<string> {
  const { approveClient: c } = await graphql<{ approveClient: { status: string; serialNumber: string | null; certificatePem: string | null } }>(core, token, APPROVE_ONE, { id });
  if (c.status !== 'APPROVED' || !c.serialNumber || !c.certificatePem?.startsWith('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`approveClient(${id}) came back ${c.status} without a certificate`);
  }
  return c.serialNumber;
}

/** revokeOne revokes one certificate with revokeClientCertificate and returns its serial. */
export async function revokeOne(core: CoreHandle, token: string, id: string): Promise<string> {
  const { revokeClientCertificate: c } = await graphql<{ revokeClientCertificate: { status: string; serialNumber: string | null } }>(core, token, REVOKE_ONE, { id });
  if (c.status !== 'REVOKED' || !c.serialNumber) throw new Error(`revokeClientCertificate(${id}) came back ${c.status}`);
  return c.serialNumber;
}

/** crlFetcher gets the CRL agents download from the core's agent gateway (PEM), over one kept-alive connection. */
export function crlFetcher(core: CoreHandle): { fetch(): Promise<string>; close(): void } {
  const url = new URL('/agent/v1/crl', core.agentUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: core.authority.certificatePem });
  return {
    fetch: () =>
      new Promise((resolve, reject) => {
        const req = request(url, { agent, method: 'GET' }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts).toString('utf8')) : reject(new Error(`GET ${url} answered ${res.statusCode}`))));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
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
export async function countRevoked(core: CoreHandle): Promise<number> {
  const rows = (await core.database.db.execute(
    sql`select count(*)::int as n from client_certificates where status = 'REVOKED' and not_after > now()`,
  )) as unknown as { rows?: { n: number }[] } & { n: number }[];
  return Number((rows.rows ?? rows)[0]!.n);
}

/**
 * seedRevoked brings the revoked, unexpired certificates up to `total` with plain SQL rows: REVOKED,
 * valid for a year, serials '7f' + 30 hex digits of a counter (canonical, positive, never random
 * ones' clash in practice), all on the device of `onRequestId` with a distinct fingerprint each. The
 * next CRL the core issues names them, as it would real ones. Returns how many rows it added.
 */
export async function seedRevoked(core: CoreHandle, onRequestId: string, total: number, from: number): Promise<number> {
  const have = await countRevoked(core);
  const add = Math.max(0, total - have);
  if (add === 0) return 0;
  await core.database.db.execute(sql`
    insert into client_certificates
      (device_id, status, subject, key_algorithm, public_key_fingerprint, csr_pem, requested_at, decided_at, decided_by,
       serial_number, not_before, not_after, revoked_at, revocation_reason)
    select c.device_id, 'REVOKED', 'CN=peer-bench-seeded', 'EC-P256',
           encode(sha256(convert_to('peer-bench-seeded-' || g, 'UTF8')), 'hex'), 'seeded by bench/peer: no request',
           now() - interval '2 days', now() - interval '2 days', 'peer-bench',
           '7f' || lpad(to_hex(g), 30, '0'), now() - interval '2 days', now() + interval '365 days',
           now() - interval '1 day', 'UNSPECIFIED'
    from client_certificates c, generate_series(${from}::bigint, ${from + add - 1}::bigint) g
    where c.id = ${Number(onRequestId)}`);
  return add;
}
