import { createHash } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS, DEFAULT_WEBSOCKET_LIMITS } from '../../src/server/query-limits.js';
import { DevicesDocument } from '../generated/graphql.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { openRawSocket, settled, type RawSocket } from '../support/raw-socket.js';
import type { TestCore } from '../support/test-core.js';

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };

/** The queries that took the server down, and one over each limit. */
const TEN_THOUSAND_ALIASES = `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: authStatusSummary { total }`).join(' ')} }`;
const HOSTILE_COST = `{ ${Array.from(
  { length: 20 },
  (_, i) =>
    `a${i}: devices(first: 500) { edges { node { id name connectionHistory(first: 500) { edges { node { at result } } } certificates { id device { id name certificates { id } } } } } }`,
).join(' ')} }`;
const OVER: { reason: string; query: string }[] = [
  { reason: 'DOCUMENT_TOO_LARGE', query: TEN_THOUSAND_ALIASES },
  // Under the size limit, over the tokens: the parser stops at the limit.
  { reason: 'TOO_MANY_TOKENS', query: `{ ${'__typename '.repeat(2500)} }` },
  {
    reason: 'QUERY_TOO_DEEP',
    query: `{ device(id: "1") { ${'certificates { device { '.repeat(10)} id ${'} } '.repeat(10)} } }`,
  },
  { reason: 'TOO_MANY_ALIASES', query: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: authStatusSummary { total }`).join(' ')} }` },
  { reason: 'TOO_MANY_DUPLICATE_FIELDS', query: `{ ${'authStatusSummary { total } '.repeat(32)} }` },
  { reason: 'QUERY_TOO_COSTLY', query: HOSTILE_COST },
];

describe('request limits over HTTP and graphql-ws', () => {
  let tc: TestCore;
  let viewer: string;
  let admin: string;
  const sockets: RawSocket[] = [];
  const socket = (token = viewer) => {
    const s = openRawSocket(tc.url, token);
    sockets.push(s);
    return s;
  };

  async function post(body: Record<string, unknown>, token = viewer): Promise<{ status: number } & Body> {
    const res = await fetch(tc.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, ...((await res.json()) as Body) };
  }

  async function deviceCount(): Promise<number> {
    const res = await tc.gql(DevicesDocument, { first: 1 }, admin);
    return res.data!.devices.totalCount;
  }

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens());
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await tc?.close();
  });

  describe('HTTP', () => {
    it.each(OVER)('$reason: 400, BAD_USER_INPUT with the reason, the limit and a message naming its setting', async ({ reason, query }) => {
      const res = await post({ query });
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason, limit: expect.any(Number) });
      expect(res.errors![0]!.message).toMatch(/this server accepts at most .* \(GRAPHQL_MAX_[A-Z_]+\)/);
    });

    it('refuses before validation: a query over a limit that is also invalid gets the limit, not the validation error', async () => {
      const res = await post({ query: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: noSuchField`).join(' ')} }` });
      expect(res.status).toBe(400);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TOO_MANY_ALIASES', limit: 30, found: 31 });
    });

    it('counts the variables of each request, also for a document Apollo has already cached', async () => {
      const query = 'query Page($n: Int) { devices(first: $n) { edges { node { connectionHistory(first: 500) { edges { node { at } } } } } } }';
      const small = await post({ query, variables: { n: 10 } });
      expect(small.errors).toBeUndefined();
      const large = await post({ query, variables: { n: 500 } });
      expect(large.status).toBe(400);
      expect(large.errors![0]!.extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY', limit: DEFAULT_QUERY_LIMITS.maxCost });
      expect(large.errors![0]!.extensions!.found).toBeGreaterThan(500 * 500);
    });

    it('a mutation over a limit changes nothing', async () => {
      const before = await deviceCount();
      const aliases = Array.from(
        { length: 31 },
        (_, i) => `d${i}: registerDevices(devices: [{ name: "LIMIT-${i}", agentId: "limit-${i}" }]) { id }`,
      ).join(' ');
      const res = await post({ query: `mutation { ${aliases} }` }, admin);
      expect(res.status).toBe(400);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TOO_MANY_ALIASES' });
      expect(await deviceCount()).toBe(before);
    });

    it('answers the introspection query that tools and codegen send', async () => {
      const res = await post({ query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true }) });
      expect(res.errors).toBeUndefined();
      expect((res.data!.__schema as { types: unknown[] }).types.length).toBeGreaterThan(20);
    });

    it('does not take automatic persisted queries (any caller could fill their store)', async () => {
      const query = '{ authStatusSummary { total } }';
      const sha256Hash = createHash('sha256').update(query).digest('hex');
      const res = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } });
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_NOT_SUPPORTED' });
      const byHash = await post({ extensions: { persistedQuery: { version: 1, sha256Hash } } });
      expect(byHash.data).toBeUndefined();
      expect(byHash.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_NOT_SUPPORTED' });
    });
  });

  describe('graphql-ws', () => {
    it.each(OVER.filter((o) => o.reason !== 'DOCUMENT_TOO_LARGE'))(
      '$reason: an error message for that id, and the socket stays open for the next operation',
      async ({ reason, query }) => {
        const s = socket();
        await s.acknowledged;
        s.subscribe('bad', query);
        const error = await s.until('bad', settled);
        expect(error.type).toBe('error');
        const errors = error.payload as { message: string; extensions: Record<string, unknown> }[];
        expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason, limit: expect.any(Number) });
        expect(errors[0]!.extensions.http).toBeUndefined();
        s.subscribe('good', '{ authStatusSummary { total } }');
        const next = await s.until('good', (m) => m.type === 'next');
        expect(next.payload).toEqual({ data: { authStatusSummary: { total: 1 } } });
        s.close();
      },
    );

    it('a query over the document size but inside a message is refused as DOCUMENT_TOO_LARGE; a message over the size closes the socket (1009)', async () => {
      const s = socket();
      await s.acknowledged;
      const padded = `{ authStatusSummary { total } } #${'x'.repeat(DEFAULT_QUERY_LIMITS.maxDocumentBytes)}`;
      s.subscribe('large', padded);
      const error = await s.until('large', settled);
      expect((error.payload as { extensions: unknown }[])[0]!.extensions).toMatchObject({ reason: 'DOCUMENT_TOO_LARGE' });
      s.subscribe('huge', `#${'x'.repeat(DEFAULT_WEBSOCKET_LIMITS.maxMessageBytes)}\n{ authStatusSummary { total } }`);
      expect((await s.closed).code).toBe(1009);
      expect(s.messagesFor('huge')).toEqual([]);
    });

    it('counts the variables of each subscribe, also for a document already cached', async () => {
      const s = socket();
      await s.acknowledged;
      const query = 'query Page($n: Int) { devices(first: $n) { edges { node { connectionHistory(first: 500) { edges { node { at } } } } } } }';
      s.subscribe('small', query, { n: 10 });
      expect((await s.until('small', settled)).type).toBe('complete');
      s.subscribe('large', query, { n: 500 });
      const error = await s.until('large', settled);
      expect((error.payload as { extensions: unknown }[])[0]!.extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY' });
      s.close();
    });

    it(`refuses a subscription beyond ${DEFAULT_WEBSOCKET_LIMITS.maxSubscriptionsPerSocket} on one socket (TOO_MANY_SUBSCRIPTIONS), and takes one again once another completes`, async () => {
      const max = DEFAULT_WEBSOCKET_LIMITS.maxSubscriptionsPerSocket;
      const s = socket();
      await s.acknowledged;
      for (let i = 0; i < max; i++) s.subscribe(`s${i}`, 'subscription { authStatusSummaryChanged { total } }');
      await Promise.all(Array.from({ length: max }, (_, i) => s.until(`s${i}`, (m) => m.type === 'next')));
      s.subscribe('one-more', 'subscription { authStatusSummaryChanged { total } }');
      const error = await s.until('one-more', settled);
      expect(error.type).toBe('error');
      expect((error.payload as { message: string; extensions: unknown }[])[0]).toMatchObject({
        message: expect.stringContaining('GRAPHQL_WS_MAX_SUBSCRIPTIONS'),
        extensions: { code: 'BAD_USER_INPUT', reason: 'TOO_MANY_SUBSCRIPTIONS', limit: max },
      });
      // A query needs a place as well while it runs.
      s.subscribe('query', '{ authStatusSummary { total } }');
      expect((await s.until('query', settled)).type).toBe('error');
      s.complete('s0');
      // graphql-ws handles one socket's messages in order: the complete is done before the next subscribe.
      s.subscribe('again', 'subscription { authStatusSummaryChanged { total } }');
      expect((await s.until('again', (m) => m.type === 'next' || m.type === 'error')).type).toBe('next');
      s.close();
    });

    it(`refuses a socket beyond ${DEFAULT_WEBSOCKET_LIMITS.maxConnectionsPerToken} for one token with 4429, and admits one again once a socket closes`, async () => {
      const max = DEFAULT_WEBSOCKET_LIMITS.maxConnectionsPerToken;
      const token = await tc.token('wallboard', ['VIEWER']);
      const open = Array.from({ length: max }, () => socket(token));
      await Promise.all(open.map((s) => s.acknowledged));
      const extra = socket(token);
      await expect(extra.acknowledged).rejects.toThrow(/closed before connection_ack/);
      const closed = await extra.closed;
      expect(closed.code).toBe(4429);
      expect(closed.reason).toContain('GRAPHQL_WS_MAX_CONNECTIONS_PER_TOKEN');
      // Another token of the same subject is counted apart.
      const other = socket(await tc.token('wallboard', ['VIEWER'], 900));
      await other.acknowledged;
      // The refused socket never counted: closing one of the open ones makes room for exactly one.
      open[0]!.close();
      await open[0]!.closed;
      const again = socket(token);
      await again.acknowledged;
      const onceMore = socket(token);
      expect((await onceMore.closed).code).toBe(4429);
      for (const s of [...open, other, again]) s.close();
    });
  });
});
