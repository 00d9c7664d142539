import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SummaryDocument } from '../generated/graphql.js';
import { seed } from '../support/seed.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

describe('authStatusSummary served from memory between changes', () => {
  let tc: TestCore;
  let viewer: string;

  beforeAll(async () => {
    tc = await startTestCore();
    viewer = await tc.token('victor', ['VIEWER']);
  });
  afterAll(async () => tc?.close());

  const counterReads = () => tc.queries.filter((q) => /from "auth_status_counters"/i.test(q)).length;
  const summary = async () => (await tc.gql(SummaryDocument, {}, viewer)).data!.authStatusSummary;

  it('reads the counters once for repeated queries, and again right after a change made through this core', async () => {
    const first = await summary();
    const before = counterReads();
    for (let i = 0; i < 5; i++) expect(await summary()).toEqual(first);
    expect(counterReads() - before).toBe(0);

    await seed(tc).record('cache-1', 'succeeded');
    const after = await summary();
    expect(after.succeeded).toBe(first.succeeded + 1);
    expect(after.total).toBe(first.total + 1);
  });

  it('drops the remembered summary on a summaryChanged from elsewhere (another replica)', async () => {
    const { db } = tc.core.database;
    const before = await summary();
    // A change that bypasses this core's services, as another replica's would.
    await db.execute(sql`update auth_status_counters set count = count + 7 where status = 'AUTHENTICATION_FAILED'`);
    try {
      tc.core.bus.publish({ type: 'summaryChanged' });
      let seen = before.failed;
      for (let i = 0; i < 40 && seen !== before.failed + 7; i++) {
        await new Promise((r) => setTimeout(r, 25));
        seen = (await summary()).failed;
      }
      expect(seen).toBe(before.failed + 7);
    } finally {
      await db.execute(sql`update auth_status_counters set count = count - 7 where status = 'AUTHENTICATION_FAILED'`);
      tc.core.bus.publish({ type: 'summaryChanged' });
    }
  });

  it('is never older than a second, even without any event', async () => {
    const { db } = tc.core.database;
    const before = await summary();
    await db.execute(sql`update auth_status_counters set count = count + 3 where status = 'CLIENT_AGENTS_MUST_UPGRADE'`);
    try {
      await new Promise((r) => setTimeout(r, 1100));
      expect((await summary()).mustUpgrade).toBe(before.mustUpgrade + 3);
    } finally {
      await db.execute(sql`update auth_status_counters set count = count - 3 where status = 'CLIENT_AGENTS_MUST_UPGRADE'`);
    }
  });
});
