import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApproveClientsDocument,
  CreateChartQueryDocument,
  PageAuditLogDocument,
  PageClientAccessRequestsDocument,
  PageConnectionHistoryDocument,
  PageDevicesDocument,
  PageDevicesLiteralDocument,
  PageSavedQueryDevicesDocument,
  type AuthenticationStatus,
} from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { seed, type ResultKind } from '../support/seed.js';
import { errorCode, type GraphQLResult, type TestCore } from '../support/test-core.js';

// Pages both ways over HTTP: every list walked forward to its end and back to its start, each
// backward page compared with the forward page it must equal, and pageInfo checked at both ends.

interface PageShape {
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: { cursor: string; node: unknown }[];
}
type Args = { first?: number | null; after?: string; last?: number; before?: string };
type FetchPage = (args: Args) => Promise<PageShape>;

const EMPTY = { startCursor: null, endCursor: null };

/**
 * walkBothWays walks a list with pages of `size` and checks every page against the whole list
 * read at once; returns the whole list. The list must be longer than two pages, so that there are
 * middle pages; when its length is not a multiple of size, the pages read backward from the end
 * do not line up with the forward ones, which the callers below make sure of for most lists.
 */
async function walkBothWays(fetchPage: FetchPage, size: number): Promise<PageShape['edges']> {
  const whole = await fetchPage({ first: 500 });
  expect(whole.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  const n = whole.edges.length;
  expect(n).toBeGreaterThan(2 * size);
  const pages = Math.ceil(n / size);

  // Forward, from the start to the end.
  const forward: PageShape[] = [await fetchPage({ first: size })];
  while (forward.at(-1)!.pageInfo.hasNextPage) {
    expect(forward.length).toBeLessThan(pages);
    forward.push(await fetchPage({ first: size, after: forward.at(-1)!.pageInfo.endCursor! }));
  }
  expect(forward.flatMap((p) => p.edges)).toEqual(whole.edges);
  forward.forEach((p, i) => {
    expect(p.edges).toEqual(whole.edges.slice(i * size, (i + 1) * size));
    expect(p.pageInfo).toEqual({
      hasPreviousPage: i > 0,
      hasNextPage: i < pages - 1,
      startCursor: p.edges[0]!.cursor,
      endCursor: p.edges.at(-1)!.cursor,
    });
  });
  // Past the end: nothing, and something behind.
  expect(await fetchPage({ first: size, after: forward.at(-1)!.pageInfo.endCursor! })).toMatchObject({
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: true, ...EMPTY },
  });

  // Back from the last page to the start: each page before a page's startCursor is the forward page before it.
  let back = forward.at(-1)!;
  for (let i = pages - 2; i >= 0; i--) {
    back = await fetchPage({ last: size, before: back.pageInfo.startCursor! });
    expect(back).toEqual(forward[i]);
  }
  // Before the start: nothing, and something after.
  expect(await fetchPage({ last: size, before: forward[0]!.pageInfo.startCursor! })).toMatchObject({
    edges: [],
    pageInfo: { hasNextPage: true, hasPreviousPage: false, ...EMPTY },
  });

  // Backward from the end (last alone), to the start: pages line up with the end of the list.
  const backward: PageShape[] = [await fetchPage({ last: size })];
  while (backward.at(-1)!.pageInfo.hasPreviousPage) {
    expect(backward.length).toBeLessThan(pages);
    backward.push(await fetchPage({ last: size, before: backward.at(-1)!.pageInfo.startCursor! }));
  }
  expect([...backward].reverse().flatMap((p) => p.edges)).toEqual(whole.edges);
  backward.forEach((p, i) => {
    expect(p.edges).toEqual(whole.edges.slice(Math.max(0, n - (i + 1) * size), n - i * size));
    expect(p.pageInfo).toEqual({
      hasPreviousPage: i < pages - 1,
      hasNextPage: i > 0,
      startCursor: p.edges[0]!.cursor,
      endCursor: p.edges.at(-1)!.cursor,
    });
  });
  // And forward again from a backward page's endCursor: the rest of the list.
  const rest = await fetchPage({ first: 500, after: backward.at(-1)!.pageInfo.endCursor! });
  expect(rest.edges).toEqual(whole.edges.slice(backward.at(-1)!.edges.length));
  expect(rest.pageInfo.hasPreviousPage).toBe(true);
  return whole.edges;
}

/** ok returns the data of a result that must have no errors. */
function ok<R>(r: GraphQLResult<R>): R {
  expect(r.errors).toBeUndefined();
  return r.data!;
}

describe('pages both ways: first/after forward, last/before backward', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  const agents = agentsOf(() => tc.core);
  const kinds: (ResultKind | null)[] = ['succeeded', 'notApproved', null];

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens());
    const s = seed(tc);
    // 13 devices, one import each (so the audit log has as many entries), statuses interleaved by id.
    for (let i = 0; i < 13; i++) {
      await s.devices([{ name: `pg-${String(i).padStart(2, '0')}`, agentId: `pg-${i}` }]);
      const kind = kinds[i % 3];
      if (kind) await s.record(`pg-${i}`, kind);
    }
    // A history of 7 results for pg-0.
    for (let i = 0; i < 6; i++) await s.record('pg-0', i % 2 === 0 ? 'notApproved' : 'succeeded');
    // 8 client access requests, 3 of them approved: 5 PENDING, interleaved with the others.
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await agents.make(`req-${i}`).enroll();
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      ids.push((res.body as { requestId: string }).requestId);
    }
    ok(await tc.gql(ApproveClientsDocument, { ids: [ids[1]!, ids[3]!, ids[5]!] }, admin));
  });
  afterAll(async () => {
    agents.closeAll();
    await tc?.close();
  });

  const devicesOf =
    (authStatus?: AuthenticationStatus[]): FetchPage =>
    async (args) =>
      ok(await tc.gql(PageDevicesDocument, { ...args, filter: authStatus ? { authStatus } : null }, viewer)).devices;

  it('devices: the whole inventory', async () => {
    const all = await walkBothWays(devicesOf(), 4);
    const ids = all.map((e) => Number((e.node as { id: string }).id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('devices with a status filter: the matching devices only, in the same order, with their totalCount on every page', async () => {
    const statuses: AuthenticationStatus[] = ['AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED'];
    const matching = await walkBothWays(devicesOf(statuses), 2);
    const all = (await devicesOf()({ first: 500 })).edges;
    expect(matching).toEqual(all.filter((e) => statuses.includes((e.node as { authStatus: AuthenticationStatus }).authStatus)));
    expect(matching).toHaveLength(9);
    for (const args of [{ last: 2 }, { first: 2 }, { last: 2, before: matching[4]!.cursor }]) {
      expect((await tc.gql(PageDevicesDocument, { ...args, filter: { authStatus: statuses } }, viewer)).data!.devices.totalCount).toBe(9);
    }
  });

  it("a saved query (the chart's double-click on Authentication succeeded): its devices", async () => {
    const q = ok(await tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_SUCCEEDED' }, admin)).createChartQuery;
    const devices = await walkBothWays(
      async (args) => ok(await tc.gql(PageSavedQueryDevicesDocument, { id: q.id, ...args }, admin)).savedQuery!.devices,
      2,
    );
    // pg-0, 3, 6, 9, 12 (pg-0's last result succeeded too).
    expect(devices.map((e) => (e.node as { name: string }).name)).toEqual(['pg-00', 'pg-03', 'pg-06', 'pg-09', 'pg-12']);
  });

  it('clientAccessRequests, all and PENDING only', async () => {
    const fetchOf =
      (status: 'PENDING' | null): FetchPage =>
      async (args) =>
        ok(await tc.gql(PageClientAccessRequestsDocument, { ...args, status }, viewer)).clientAccessRequests;
    expect(await walkBothWays(fetchOf(null), 3)).toHaveLength(8);
    const pending = await walkBothWays(fetchOf('PENDING'), 2);
    expect(pending.map((e) => (e.node as { status: string }).status)).toEqual(Array(5).fill('PENDING'));
  });

  it('the audit log, newest first', async () => {
    const log = await walkBothWays(async (args) => ok(await tc.gql(PageAuditLogDocument, args, viewer)).auditLog, 4);
    const ids = log.map((e) => Number((e.node as { id: string }).id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(ids.length).toBeGreaterThanOrEqual(14);
  });

  it("a device's connection history, newest first", async () => {
    const device = ok(await tc.gql(PageDevicesDocument, { filter: { search: 'pg-00' } }, viewer)).devices.edges[0]!.node;
    const history = await walkBothWays(
      async (args) => ok(await tc.gql(PageConnectionHistoryDocument, { id: device.id, ...args }, viewer)).device!.connectionHistory,
      3,
    );
    expect(history).toHaveLength(7);
  });

  describe('the arguments', () => {
    const devices = (args: Args & { first?: number | null }) => tc.gql(PageDevicesDocument, args, viewer);

    it("last alone pages backward: first's default does not count as given", async () => {
      const literal = ok(await tc.gql(PageDevicesLiteralDocument, {}, viewer)).devices;
      expect(literal.edges).toHaveLength(2);
      expect(literal.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      const all = ok(await devices({ first: 500 })).devices.edges;
      expect(literal.edges.map((e) => e.node.id)).toEqual(all.slice(-2).map((e) => e.node.id));
      // first null in the variables is not given either.
      expect(ok(await devices({ first: null, last: 2 })).devices.edges.map((e) => e.node.id)).toEqual(all.slice(-2).map((e) => e.node.id));
    });

    it.each([
      { name: 'first and last', args: { first: 2, last: 2 }, argument: 'last' },
      { name: 'first and before', args: { first: 2, before: 'CURSOR' }, argument: 'before' },
      { name: 'after and last', args: { after: 'CURSOR', last: 2 }, argument: 'last' },
      { name: 'after and before', args: { after: 'CURSOR', before: 'CURSOR' }, argument: 'before' },
    ])('mixing $name is BAD_USER_INPUT naming them', async ({ name, args, argument }) => {
      const cursor = ok(await devices({ first: 1 })).devices.pageInfo.endCursor!;
      const given = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === 'CURSOR' ? cursor : v]));
      const r = await devices(given);
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(r.errors![0]!.message).toBe(`${name} cannot be used together: page forward with first and after, or backward with last and before`);
      expect(r.errors![0]!.extensions!.argument).toBe(argument);
    });

    it('last has the bounds of first', async () => {
      for (const last of [0, 501]) {
        const r = await devices({ last });
        expect(errorCode(r)).toBe('BAD_USER_INPUT');
        expect(r.errors![0]!.message).toBe(`last must be between 1 and 500 (got ${last})`);
      }
      expect(ok(await devices({ last: 500 })).devices.pageInfo.hasNextPage).toBe(false);
    });

    it('a tampered cursor, or one of another list, is BAD_USER_INPUT naming before', async () => {
      const cursor = ok(await devices({ first: 3 })).devices.pageInfo.endCursor!;
      const text = Buffer.from(cursor, 'base64url').toString('utf8');
      const auditCursor = ok(await tc.gql(PageAuditLogDocument, { first: 1 }, viewer)).auditLog.pageInfo.endCursor!;
      for (const before of [
        Buffer.from(text.replace('device:', 'device:-'), 'utf8').toString('base64url'),
        Buffer.from(`${text}0 or 1=1`, 'utf8').toString('base64url'),
        `${cursor}=`,
        auditCursor,
      ]) {
        const r = await devices({ last: 2, before });
        expect(errorCode(r), before).toBe('BAD_USER_INPUT');
        expect(r.errors![0]!.extensions!.argument).toBe('before');
        expect(r.errors![0]!.message).toMatch(/^before is not a cursor from this list/);
      }
    });
  });
});
