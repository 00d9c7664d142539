/**
 * API read benchmarks at fleet scale, against a running core over HTTP (the runner, bench/run.ts,
 * starts the core on a seeded PostgreSQL database and calls runApiBench in the same process):
 *
 *  1. `authStatusSummary` over HTTP, against two baselines in the same run:
 *     - `SELECT auth_status, count(*) FROM devices GROUP BY auth_status`, sent straight to the
 *       database (what the chart would cost without the kept counters), and
 *     - `{ __typename }` over HTTP on the same server (the floor: HTTP + GraphQL + token check).
 *     and the request floor (reported, no goal): a bare `node:http` server in a process of its own
 *     answering every request with the summary's JSON body, precomputed (no token check, no GraphQL);
 *     and, when uncachedUrl is given, the same two requests against a second core whose cache of
 *     verified tokens is off (AUTH_TOKEN_CACHE_SIZE=0): the cache's before/after in the same run.
 *  2. `devices(filter: { authStatus: [AUTHENTICATION_SUCCEEDED] }, first: 50)`: the first page
 *     against the page 1,000 pages deep (reached with the cursor of the row before it).
 *
 * Rounds interleave the measured requests with their baselines, one request at a time, so load
 * from elsewhere on the machine weighs on all of them alike. Medians of per-request latency.
 */
import { spawn } from 'node:child_process';
import postgres from 'postgres';

export interface ApiBenchOptions {
  /** The core's GraphQL URL. */
  url: string;
  /** A VIEWER (or higher) access token for it. */
  token: string;
  /** A second core on the same database with its token cache off, for the cache's before/after; optional. */
  uncachedUrl?: string;
  /** The database the core runs on, for the GROUP BY baseline and to find the deep cursor. */
  databaseUrl: string;
  /** Interleaved rounds; each times every request kind once (GROUP BY: once every groupByEvery rounds). */
  rounds: number;
  /** Page size of the device list. */
  pageSize?: number;
  /** How many pages deep the deep page is. */
  depth?: number;
  log?: (line: string) => void;
}

export interface Latency {
  n: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
}

export interface ApiBenchResult {
  devices: number;
  summary: { summary: Latency; groupBy: Latency; typename: Latency; groupByOverSummary: number; summaryOverTypename: number };
  /** The request floor: a bare node:http server answering the summary's JSON, precomputed. */
  floor: { bare: Latency; summaryOverBare: number; typenameOverBare: number };
  /** The same requests against a core with its token cache off (when measured). */
  uncached: { summary: Latency; typename: Latency } | null;
  pagination: { pageSize: number; depth: number; first: Latency; deep: Latency; deepOverFirst: number; deepPageFound: boolean };
}

const SUMMARY = '{ authStatusSummary { total succeeded noAuthenticationInfo failed mustUpgrade successRate } }';
const TYPENAME = '{ __typename }';
const DEVICES =
  'query ($after: String, $first: Int) { devices(filter: { authStatus: [AUTHENTICATION_SUCCEEDED] }, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id name agentId authStatus lastConnection { at result } } } } }';

function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { n: s.length, medianMs: at(0.5), p90Ms: at(0.9), minMs: s[0]! };
}

// The bare server: node:http, in a process of its own (as the core is), answering every request with
// the body it was given. It reads the request body to its end, as any server must.
const BARE_SERVER = `
const http = require('node:http');
const body = Buffer.from(process.env.BARE_BODY, 'utf8');
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** startBareServer starts the bare server answering body; resolves with its URL and a stop function. */
async function startBareServer(body: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { env: { ...process.env, BARE_BODY: body }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('the bare http server did not start within 10 s')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    child.once('exit', (code) => fail(new Error(`the bare http server exited (code ${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** runApiBench measures the summary and pagination reads of a running core; see the file comment. */
export async function runApiBench(opts: ApiBenchOptions): Promise<ApiBenchResult> {
  const log = opts.log ?? (() => {});
  const pageSize = opts.pageSize ?? 50;
  const depth = opts.depth ?? 1000;
  const sql = postgres(opts.databaseUrl, { max: 1, onnotice: () => {} });
  let bare: { url: string; stop: () => Promise<void> } | undefined;
  try {
    const gql = async (query: string, variables: Record<string, unknown> = {}, url = opts.url) => {
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
      const ms = performance.now() - t0;
      if (!res.ok || body.errors) throw new Error(`GraphQL request failed (${res.status}): ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
      return { ms, data: body.data! };
    };
    const groupBy = async () => {
      const t0 = performance.now();
      const rows = await sql`select auth_status, count(*)::bigint as n from devices group by auth_status`;
      const ms = performance.now() - t0;
      return { ms, total: rows.reduce((a, r) => a + Number(r.n), 0) };
    };

    const [{ n: devicesCount }] = await sql<{ n: string }[]>`select count(*)::bigint as n from devices`;
    const devices = Number(devicesCount);

    // The deep page starts after the (depth × pageSize)-th matching row: its cursor is that row's id.
    const skip = depth * pageSize;
    const [beforeDeep] = await sql<{ id: string }[]>`
      select id from devices where auth_status = 'AUTHENTICATION_SUCCEEDED' order by id offset ${skip - 1} limit 1`;
    const deepCursor = beforeDeep ? Buffer.from(`device:${beforeDeep.id}`, 'utf8').toString('base64url') : null;

    // Warm-up: connections, plans, caches.
    for (let i = 0; i < 5; i++) {
      await gql(SUMMARY);
      await gql(TYPENAME);
      await gql(DEVICES, { first: pageSize });
      if (deepCursor) await gql(DEVICES, { first: pageSize, after: deepCursor });
    }
    await groupBy();

    // The bare server answers with the summary's own JSON body, as certfleet sent it.
    const summaryBody = JSON.stringify({ data: (await gql(SUMMARY)).data });
    bare = await startBareServer(summaryBody);
    const bareUrl = bare.url;
    const uncachedUrl = opts.uncachedUrl;
    for (let i = 0; i < 5; i++) {
      await gql(SUMMARY, {}, bareUrl);
      if (uncachedUrl) {
        await gql(SUMMARY, {}, uncachedUrl);
        await gql(TYPENAME, {}, uncachedUrl);
      }
    }

    // Check the two paths agree before timing them.
    const check = await gql(SUMMARY);
    const counted = await groupBy();
    if (check.data.authStatusSummary.total !== counted.total) {
      throw new Error(`authStatusSummary.total ${check.data.authStatusSummary.total} differs from the GROUP BY total ${counted.total}`);
    }

    const s: Record<'summary' | 'typename' | 'groupBy' | 'first' | 'deep' | 'bare' | 'summaryUncached' | 'typenameUncached', number[]> = {
      summary: [],
      typename: [],
      groupBy: [],
      first: [],
      deep: [],
      bare: [],
      summaryUncached: [],
      typenameUncached: [],
    };
    // A GROUP BY over a million rows takes long enough that a few samples are plenty.
    const groupByEvery = Math.max(1, Math.floor(opts.rounds / 10));
    for (let r = 0; r < opts.rounds; r++) {
      const steps: (() => Promise<void>)[] = [
        async () => void s.summary.push((await gql(SUMMARY)).ms),
        async () => void s.typename.push((await gql(TYPENAME)).ms),
        async () => void s.bare.push((await gql(SUMMARY, {}, bareUrl)).ms),
        async () => void s.first.push((await gql(DEVICES, { first: pageSize })).ms),
        async () => {
          if (deepCursor) s.deep.push((await gql(DEVICES, { first: pageSize, after: deepCursor })).ms);
        },
      ];
      if (uncachedUrl) {
        steps.push(async () => void s.summaryUncached.push((await gql(SUMMARY, {}, uncachedUrl)).ms));
        steps.push(async () => void s.typenameUncached.push((await gql(TYPENAME, {}, uncachedUrl)).ms));
      }
      if (r % groupByEvery === 0) steps.push(async () => void s.groupBy.push((await groupBy()).ms));
      // Rotate the order each round.
      for (let i = 0; i < steps.length; i++) await steps[(i + r) % steps.length]!();
    }
    const summary = latency(s.summary);
    const typename = latency(s.typename);
    const grouped = latency(s.groupBy);
    const bareLatency = latency(s.bare);
    const uncached = uncachedUrl ? { summary: latency(s.summaryUncached), typename: latency(s.typenameUncached) } : null;
    const first = latency(s.first);
    const deep = deepCursor ? latency(s.deep) : { n: 0, medianMs: NaN, p90Ms: NaN, minMs: NaN };
    const result: ApiBenchResult = {
      devices,
      summary: {
        summary,
        groupBy: grouped,
        typename,
        groupByOverSummary: grouped.medianMs / summary.medianMs,
        summaryOverTypename: summary.medianMs / typename.medianMs,
      },
      floor: {
        bare: bareLatency,
        summaryOverBare: summary.medianMs / bareLatency.medianMs,
        typenameOverBare: typename.medianMs / bareLatency.medianMs,
      },
      uncached,
      pagination: { pageSize, depth, first, deep, deepOverFirst: deep.medianMs / first.medianMs, deepPageFound: deepCursor !== null },
    };
    log(
      `  summary ${summary.medianMs.toFixed(2)} ms, GROUP BY ${grouped.medianMs.toFixed(1)} ms, __typename ${typename.medianMs.toFixed(2)} ms` +
        ` → GROUP BY / summary ${result.summary.groupByOverSummary.toFixed(0)} ×, summary / __typename ${result.summary.summaryOverTypename.toFixed(2)}`,
    );
    log(
      `  bare node:http with the summary's JSON ${bareLatency.medianMs.toFixed(2)} ms → summary / bare ${result.floor.summaryOverBare.toFixed(2)} ×, ` +
        `__typename / bare ${result.floor.typenameOverBare.toFixed(2)} ×`,
    );
    if (uncached) {
      log(
        `  token cache off (second core): summary ${uncached.summary.medianMs.toFixed(2)} ms, __typename ${uncached.typename.medianMs.toFixed(2)} ms` +
          ` (cache on: ${summary.medianMs.toFixed(2)} ms, ${typename.medianMs.toFixed(2)} ms)`,
      );
    }
    log(
      `  devices page 1: ${first.medianMs.toFixed(2)} ms, page ${depth + 1}: ${deep.medianMs.toFixed(2)} ms → ${result.pagination.deepOverFirst.toFixed(2)} ×` +
        (deepCursor ? '' : ` (fewer than ${skip} succeeded devices: no deep page)`),
    );
    return result;
  } finally {
    await bare?.stop();
    await sql.end({ timeout: 5 });
  }
}
