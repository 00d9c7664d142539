// The issuance benchmark's side of the core: start it in this process, make agents' CSRs as the agent
// client does, enroll them (not timed), and approve them through approveClients over HTTP.
import 'reflect-metadata';
import { join } from 'node:path';
import { createAgentClient } from '../../src/agent-client/agent-client.js';
import { loadConfig, redactUrl } from '../../src/config.js';
import { startCore, type CoreHandle } from '../../src/main.js';
import { issueToken } from '../../src/server/auth.js';
import { benchCoreEnv } from '../bench-common.js';

/** BATCH is the ids per approveClients call, and the size of one interleaved round. */
export const BATCH = 100;

/** pool runs fn over items with at most `width` in flight, keeping the order of results. */
export async function pool<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
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

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * startBenchCore starts a core in this process with a SECURITY_ADMIN token; queryCount is how many SQL
 * statements it has sent so far (startCore's onQuery hook: SQL text only, no parameters).
 */
export async function startBenchCore(
  dataDir: string,
): Promise<{ core: CoreHandle; token: string; database: string; queryCount: () => number; clientCertDays: number }> {
  let queries = 0;
  const env = benchCoreEnv(dataDir, process.env.DATABASE_URL);
  const config = loadConfig(env);
  const core = await startCore(config, { onQuery: () => void queries++ });
  const token = await issueToken(config.auth, { subject: 'bench', roles: ['SECURITY_ADMIN'], ttlSeconds: 3600 });
  const database =
    core.database.kind === 'postgres'
      ? `PostgreSQL (${redactUrl(process.env.DATABASE_URL!)})`
      : `embedded (PGlite, in ${join(dataDir, 'pgdata')})`;
  return { core, token, database, queryCount: () => queries, clientCertDays: config.clientCertDays };
}

/** makeCsrs makes EC P-256 keys and PKCS#10 requests exactly as the agent client does (its csrPem()). */
export async function makeCsrs(core: CoreHandle, agentIds: string[]): Promise<string[]> {
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
export async function enrollPending(core: CoreHandle, prefix: string, count: number): Promise<string[]> {
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
export async function approveOverHttp(core: CoreHandle, token: string, ids: string[]): Promise<void> {
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
