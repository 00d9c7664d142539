// A live dashboard as the README shows one: a graphql-ws subscriber to authStatusSummaryChanged that reconnects.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const FIELDS = 'total succeeded noAuthenticationInfo failed mustUpgrade';
const SUBSCRIPTION = `subscription FaultRunDashboard { authStatusSummaryChanged { ${FIELDS} } }`;
const QUERY = `query FaultRunSummary { authStatusSummary { ${FIELDS} } }`;

import { countsOf, type SummaryCounts } from '../simulator/mix.js';

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
