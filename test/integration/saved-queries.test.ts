import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateChartQueryDocument,
  DeleteSavedQueryDocument,
  MyQueriesDocument,
  SavedQueryDocument,
} from '../generated/graphql.js';
import { seed } from '../support/seed.js';
import { errorCode, startTestCore, type TestCore } from '../support/test-core.js';

describe("the chart's double-click: chart-generated queries", () => {
  let tc: TestCore;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    tc = await startTestCore();
    alice = await tc.token('alice', ['SECURITY_ADMIN']);
    bob = await tc.token('bob', ['SECURITY_ADMIN']);
    const s = seed(tc);
    await s.record('failing-1', 'notApproved');
    await s.record('failing-2', 'revoked');
    await s.record('ok-1', 'succeeded');
  });
  afterAll(async () => tc?.close());

  it('saves the query under My queries > Chart-generated queries, named after the chart item', async () => {
    const res = await tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_FAILED' }, alice);
    expect(res.errors).toBeUndefined();
    expect(res.data!.createChartQuery).toMatchObject({
      name: 'Authentication failed',
      folder: ['My queries', 'Chart-generated queries'],
      authStatus: 'AUTHENTICATION_FAILED',
    });
  });

  it('refreshes the same query on a second double-click instead of duplicating it', async () => {
    const first = (await tc.gql(MyQueriesDocument, {}, alice)).data!.myQueries;
    await new Promise((r) => setTimeout(r, 5));
    const again = (await tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_FAILED' }, alice)).data!.createChartQuery;
    expect(again.id).toBe(first[0]!.id);
    expect(Date.parse(again.updatedAt)).toBeGreaterThan(Date.parse(first[0]!.updatedAt));
    expect(again.createdAt).toBe(first[0]!.createdAt);
    await tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_SUCCEEDED' }, alice);
    const mine = (await tc.gql(MyQueriesDocument, {}, alice)).data!.myQueries;
    expect(mine.map((q) => q.authStatus)).toEqual(['AUTHENTICATION_FAILED', 'AUTHENTICATION_SUCCEEDED']);
  });

  it('evaluates the saved query live', async () => {
    const q = (await tc.gql(MyQueriesDocument, {}, alice)).data!.myQueries.find((x) => x.authStatus === 'AUTHENTICATION_FAILED')!;
    const before = (await tc.gql(SavedQueryDocument, { id: q.id }, alice)).data!.savedQuery!.devices;
    expect(before.totalCount).toBe(2);
    await seed(tc).record('failing-3', 'expired');
    await seed(tc).record('failing-1', 'succeeded');
    const after = (await tc.gql(SavedQueryDocument, { id: q.id, first: 1 }, alice)).data!.savedQuery!.devices;
    expect(after.totalCount).toBe(2);
    expect(after.pageInfo.hasNextPage).toBe(true);
    const rest = (await tc.gql(SavedQueryDocument, { id: q.id, first: 5, after: after.pageInfo.endCursor }, alice)).data!
      .savedQuery!.devices;
    expect([...after.edges, ...rest.edges].map((e) => e.node.name).sort()).toEqual(['failing-2', 'failing-3']);
  });

  it("keeps each user's queries their own: another user sees NOT_FOUND", async () => {
    const q = (await tc.gql(MyQueriesDocument, {}, alice)).data!.myQueries[0]!;
    expect((await tc.gql(MyQueriesDocument, {}, bob)).data!.myQueries).toEqual([]);
    expect(errorCode(await tc.gql(SavedQueryDocument, { id: q.id }, bob))).toBe('NOT_FOUND');
    expect(errorCode(await tc.gql(DeleteSavedQueryDocument, { id: q.id }, bob))).toBe('NOT_FOUND');
    // Bob's own double-click makes Bob's own query.
    const bobs = (await tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_FAILED' }, bob)).data!.createChartQuery;
    expect(bobs.id).not.toBe(q.id);
    expect((await tc.gql(SavedQueryDocument, { id: q.id }, alice)).data!.savedQuery!.id).toBe(q.id);
  });

  it('deletes a query of its owner, after which it is NOT_FOUND', async () => {
    const q = (await tc.gql(MyQueriesDocument, {}, alice)).data!.myQueries[0]!;
    const res = await tc.gql(DeleteSavedQueryDocument, { id: q.id }, alice);
    expect(res.data!.deleteSavedQuery).toBe(true);
    expect(errorCode(await tc.gql(SavedQueryDocument, { id: q.id }, alice))).toBe('NOT_FOUND');
    expect(errorCode(await tc.gql(DeleteSavedQueryDocument, { id: q.id }, alice))).toBe('NOT_FOUND');
  });
});
