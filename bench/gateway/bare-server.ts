// The gateway benchmark's baselines: a bare node:https server with client-certificate auth that
// records nothing, and the same server recording each result with one plain INSERT through
// postgres.js (what a straightforward implementation would do).
import { randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { createCaSigner } from '../../src/pki/index.js';

/** Records one result; the bare server answers only after it resolves. */
export type RecordResult = (r: { agentId: string; remoteAddress: string | null }) => Promise<void>;

/**
 * startBareServer starts a baseline on 127.0.0.1 and a port of the system's choosing: the same CA,
 * the same kind of server certificate and key (EC P-256, from the core's signer), client certificates
 * required and verified by TLS, the gateway's session and keep-alive settings; it reads the body,
 * parses it and answers a small JSON document. Without `record` it records nothing; with it, it
 * answers once `record` has resolved (a failure answers 500).
 */
export async function startBareServer(
  authority: { certificatePem: string; privateKey: KeyObject },
  record?: RecordResult,
): Promise<{ server: HttpsServer; port: number }> {
  const signer = await createCaSigner({ certificatePem: authority.certificatePem, privateKey: authority.privateKey });
  const bareCert = await signer.issueServerCertificate({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
  const bareBody = JSON.stringify({ status: 'AUTHENTICATION_SUCCEEDED', reason: null });
  const answer = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  };
  const server = createServer(
    {
      key: bareCert.privateKeyPem,
      cert: bareCert.certificatePem,
      ca: authority.certificatePem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ticketKeys: randomBytes(48),
      sessionIdContext: 'certfleet-bench-bare',
      sessionTimeout: 3600,
      keepAlive: true,
      keepAliveTimeout: 30_000,
      noDelay: true,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let agentId: unknown;
        try {
          agentId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { agentId?: unknown }).agentId;
        } catch {
          return answer(res, 400, '{"error":"bad json"}');
        }
        if (!record) return answer(res, 200, bareBody);
        if (typeof agentId !== 'string') return answer(res, 400, '{"error":"agentId missing"}');
        record({ agentId, remoteAddress: req.socket.remoteAddress ?? null }).then(
          () => answer(res, 200, bareBody),
          (err: Error) => answer(res, 500, JSON.stringify({ error: err.message })),
        );
      });
    },
  );
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * insertRecorder makes the baseline's recorder: a scratch table of its own in `databaseUrl` (created
 * here, dropped by `drop()`), with columns like connection_results' (agent id, result, reason,
 * source, address, time) and, like it, an index for a device's history; one parameterised INSERT per
 * result through a postgres.js pool with its default settings. `maxId()` reads max(id), to check
 * that every answer was recorded.
 */
export async function insertRecorder(databaseUrl: string): Promise<{ table: string; record: RecordResult; maxId: () => Promise<number>; drop: () => Promise<void> }> {
  // A name of its own per process (digits only), so it never meets another run's table or the core's.
  const table = `bench_bare_insert_results_${process.pid}`;
  const sql = postgres(databaseUrl, { onnotice: () => {} });
  try {
    await sql.unsafe(
      `create table "${table}" (
         id bigint generated always as identity primary key,
         agent_id text not null,
         at timestamptz not null,
         source text not null,
         result text not null,
         failure_reason text,
         remote_address varchar(64)
       )`,
    );
    await sql.unsafe(`create index "${table}_agent_idx" on "${table}" (agent_id, id desc)`);
  } catch (err) {
    await sql.end({ timeout: 5 });
    throw err;
  }
  const ident = sql(table);
  return {
    table,
    record: async ({ agentId, remoteAddress }) => {
      await sql`insert into ${ident} (agent_id, at, source, result, failure_reason, remote_address)
                values (${agentId}, ${new Date()}, ${'SECURE_CONNECTION'}, ${'AUTHENTICATION_SUCCEEDED'}, ${null}, ${remoteAddress})`;
    },
    maxId: async () => {
      const [row] = await sql`select coalesce(max(id), 0)::bigint as id from ${ident}`;
      return Number(row?.id ?? 0);
    },
    drop: async () => {
      try {
        await sql.unsafe(`drop table if exists "${table}"`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
