// A live dashboard as the README shows one: a graphql-ws subscriber to authStatusSummaryChanged that
// reconnects; and, after a fault, the wait until it shows what a fresh read and the database show.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const FIELDS = 'total succeeded noAuthenticationInfo failed mustUpgrade';
const SUBSCRIPTION = `subscription FaultRunDashboard { authStatusSummaryChanged { ${FIELDS} } }`;
const QUERY = `query FaultRunSummary { authStatusSummary { ${FIELDS} } }`;

import { countsOf, type SummaryCounts } from '../simulator/mix.js';
import { withDatabase } from './database.js';
import { checkCounters } from './verify.js';

export type { SummaryCounts };

/** Dashboard is one subscriber's record: what it received and when its socket came and went. */
export interface Dashboard {
  readonly replica: string;
  messages: { at: number; summary: SummaryCounts }[];
  /** Date.now() of each (re)connection and each closed socket. */
  connectedAt: number[];
  closedAt: number[];
  errors: string[];
  last(): SummaryCounts | undefined;
  dispose(): void;
}

/**
 * openDashboard subscribes to the summary on graphqlUrl and keeps doing so: after a lost socket
 * (the replica was killed and started again) it reconnects every 250 ms, as a dashboard left open
 * would, and the core sends the current summary at once on each new subscription.
 */
export function openDashboard(replica: string, graphqlUrl: string, token: () => Promise<string>): Dashboard {
  const d: Dashboard = {
    replica,
    messages: [],
    connectedAt: [],
    closedAt: [],
    errors: [],
    last: () => d.messages.at(-1)?.summary,
    dispose: () => {
      unsubscribe();
      // dispose waits for a connection attempt in progress, and rejects when that fails (the replica is gone): nothing to do then.
      Promise.resolve(client.dispose()).catch(() => {});
    },
  };
  const client: Client = createClient({
    url: graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await token()}` }),
    lazy: false,
    retryAttempts: Infinity,
    retryWait: () => new Promise((r) => setTimeout(r, 250)),
    shouldRetry: () => true,
    keepAlive: 5000,
    onNonLazyError: () => {},
    on: {
      connected: () => d.connectedAt.push(Date.now()),
      closed: () => d.closedAt.push(Date.now()),
    },
  });
  const unsubscribe = client.subscribe<{ authStatusSummaryChanged: SummaryCounts }>(
    { query: SUBSCRIPTION },
    {
      next: (value) => {
        if (value.errors) d.errors.push(value.errors.map((e) => e.message).join('; '));
        const s = value.data?.authStatusSummaryChanged;
        if (s) d.messages.push({ at: Date.now(), summary: countsOf(s) });
      },
      error: (err) => d.errors.push(err instanceof Error ? err.message : JSON.stringify(err)),
      complete: () => {},
    },
  );
  return d;
}

/** readSummary is a fresh authStatusSummary over HTTP, as a page load would do. */
export async function readSummary(graphqlUrl: string, token: string): Promise<SummaryCounts> {
  const res = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { data?: { authStatusSummary?: SummaryCounts }; errors?: { message: string }[] };
  if (!body.data?.authStatusSummary) throw new Error(`authStatusSummary on ${graphqlUrl}: HTTP ${res.status} ${body.errors?.[0]?.message ?? ''}`);
  return countsOf(body.data.authStatusSummary);
}

/** summaryOfCounters turns auth_status_counters rows into the chart's numbers. */
export function summaryOfCounters(c: Record<string, number>): SummaryCounts {
  const succeeded = c.AUTHENTICATION_SUCCEEDED ?? 0;
  const noAuthenticationInfo = c.NO_AUTHENTICATION_INFO ?? 0;
  const failed = c.AUTHENTICATION_FAILED ?? 0;
  const mustUpgrade = c.CLIENT_AGENTS_MUST_UPGRADE ?? 0;
  return { total: succeeded + noAuthenticationInfo + failed + mustUpgrade, succeeded, noAuthenticationInfo, failed, mustUpgrade };
}

export function sameCounts(a: SummaryCounts | undefined, b: SummaryCounts | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.total === b.total &&
    a.succeeded === b.succeeded &&
    a.noAuthenticationInfo === b.noAuthenticationInfo &&
    a.failed === b.failed &&
    a.mustUpgrade === b.mustUpgrade
  );
}

export interface DashboardReport {
  replica: string;
  resynced: boolean;
  /** From the end of the load until its last message equalled a fresh read (and the database). */
  resyncMs: number | null;
  messages: number;
  messagesAfterFault: number;
  reconnects: number;
  /** For a restarted replica: from its restart being ready to the dashboard's first message from it. */
  backAfterRestartMs: number | null;
  /** From the fault to the first message once it was over (the server back, PostgreSQL back, the replica gone): how long the chart stood still. */
  updatesResumedMs: number | null;
  last: SummaryCounts | null;
  freshRead: SummaryCounts | null;
  database: SummaryCounts | null;
  errors: string[];
}

/**
 * awaitResync waits (up to timeoutMs) until the dashboard's last message equals a fresh read and the
 * database's counters, with a message since the fault; it reports how long that took.
 */
export async function awaitResync(
  d: Dashboard,
  graphqlUrl: string,
  token: string,
  databaseUrl: string,
  o: { faultAt: number; faultEnd: number; loadEnd: number; restartedAt: number | null; timeoutMs: number },
): Promise<DashboardReport> {
  const deadline = Date.now() + o.timeoutMs;
  let freshRead: SummaryCounts | null = null;
  let database: SummaryCounts | null = null;
  let resyncMs: number | null = null;
  for (;;) {
    try {
      freshRead = await readSummary(graphqlUrl, token);
      database = summaryOfCounters((await withDatabase(databaseUrl, 10_000, checkCounters)).counters);
    } catch (err) {
      d.errors.push(`reading the summary: ${(err as Error).message}`);
    }
    if (sameCounts(d.last(), freshRead ?? undefined) && sameCounts(freshRead ?? undefined, database ?? undefined) && d.messages.some((m) => m.at >= o.faultAt)) {
      resyncMs = Date.now() - o.loadEnd;
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const firstBack = o.restartedAt === null ? undefined : d.messages.find((m) => m.at >= o.restartedAt!);
  const resumed = d.messages.find((m) => m.at >= o.faultEnd);
  return {
    replica: d.replica,
    resynced: resyncMs !== null,
    resyncMs,
    messages: d.messages.length,
    messagesAfterFault: d.messages.filter((m) => m.at >= o.faultAt).length,
    reconnects: Math.max(0, d.connectedAt.length - 1),
    backAfterRestartMs: firstBack && o.restartedAt !== null ? firstBack.at - o.restartedAt : null,
    updatesResumedMs: resumed ? resumed.at - o.faultAt : null,
    last: d.last() ?? null,
    freshRead,
    database,
    errors: [...new Set(d.errors)].slice(0, 5),
  };
}
