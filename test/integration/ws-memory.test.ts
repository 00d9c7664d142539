import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS, DEFAULT_WEBSOCKET_LIMITS } from '../../src/server/query-limits.js';
import { openRawSocket, settled, type RawSocket } from '../support/raw-socket.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

/**
 * The bound the README states: one token's sockets, each at its maximum of subscriptions with the
 * largest documents the limits accept, hold less than this while they are open; once they are
 * closed, what stays (the shared document cache) is less than AFTER_CLOSE_BOUND.
 */
const OPEN_BOUND = 64 * 1024 * 1024;
const AFTER_CLOSE_BOUND = 16 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

const STATUS = 'AUTHENTICATION_FAILED';
let distinct = 0;
/** A query of about `tokens` tokens that passes every limit, different from every other. */
function largeQuery(tokens: number): string {
  const n = distinct++;
  return `query Q${n} { devices(filter: { authStatus: [${`${STATUS} `.repeat(tokens - 20)}] }) { totalCount } }`;
}
/**
 * The cheapest document to make the server keep: it passes the limits and parses, then fails
 * validation (an unused variable) without running anything, and is cached with its errors, which
 * hold the whole document.
 */
function invalidQuery(tokens: number): string {
  const n = distinct++;
  return `query V${n}($s: [AuthenticationStatus!] = [${`${STATUS} `.repeat(tokens - 20)}]) { authStatusSummary { total } }`;
}
function largeSubscription(tokens: number): string {
  const n = distinct++;
  return `subscription S${n} { deviceAuthStatusChanged(statuses: [${`${STATUS} `.repeat(tokens - 25)}]) { previous current at device { id name } } }`;
}

const MAX_TOKENS = DEFAULT_QUERY_LIMITS.maxTokens - 10;
// Small enough for the shared cache to keep (an estimated 128 KiB each at most): these fill it.
const CACHEABLE_TOKENS = 250;

describe('memory a VIEWER can make the server hold over graphql-ws', () => {
  let tc: TestCore;
  let viewer: string;

  beforeAll(async () => {
    tc = await startTestCore();
    viewer = await tc.token('mallory', ['VIEWER']);
  });
  afterAll(async () => {
    await tc?.close();
  });

  /** One round: the most sockets a token may open, each filled to its limits with distinct large documents. */
  async function round(sockets: number): Promise<RawSocket[]> {
    const open = Array.from({ length: sockets }, () => openRawSocket(tc.url, viewer));
    await Promise.all(open.map((s) => s.acknowledged));
    await Promise.all(
      open.map(async (s, k) => {
        // Documents the cache could keep, more than one socket may add to it.
        for (let i = 0; i < 40; i++) {
          const id = `v${k}-${i}`;
          s.subscribe(id, invalidQuery(CACHEABLE_TOKENS));
          const end = await s.until(id, settled, 30_000);
          expect((end.payload as { message: string }[])[0]!.message).toMatch(/Variable "\$s" is never used/);
        }
        // Queries that run, too large for the cache.
        for (let i = 0; i < 3; i++) {
          const id = `q${k}-${i}`;
          s.subscribe(id, largeQuery(MAX_TOKENS));
          const end = await s.until(id, settled, 30_000);
          expect(end.type, JSON.stringify(s.messagesFor(id)).slice(0, 300)).toBe('complete');
        }
        // Subscriptions up to the limit, then more subscribe attempts and queries: refused.
        for (let i = 0; i < DEFAULT_WEBSOCKET_LIMITS.maxSubscriptionsPerSocket; i++) s.subscribe(`s${k}-${i}`, largeSubscription(MAX_TOKENS));
        for (let i = 0; i < 10; i++) {
          const id = `x${k}-${i}`;
          s.subscribe(id, i % 2 === 0 ? largeSubscription(MAX_TOKENS) : largeQuery(MAX_TOKENS));
          const refused = await s.until(id, settled, 30_000);
          expect((refused.payload as { extensions: { reason: string } }[])[0]!.extensions.reason).toBe('TOO_MANY_SUBSCRIPTIONS');
        }
        for (let i = 0; i < DEFAULT_WEBSOCKET_LIMITS.maxSubscriptionsPerSocket; i++) expect(s.messagesFor(`s${k}-${i}`)).toEqual([]);
      }),
    );
    if (sockets === DEFAULT_WEBSOCKET_LIMITS.maxConnectionsPerToken) {
      // One socket more for the same token is refused.
      const extra = openRawSocket(tc.url, viewer);
      expect((await extra.closed).code).toBe(4429);
    }
    return open;
  }

  it(`stays under ${OPEN_BOUND / 2 ** 20} MB while a token's sockets are open, and ${AFTER_CLOSE_BOUND / 2 ** 20} MB once they close, round after round`, async () => {
    // Warm up what any first use allocates (compiled code, prepared statements, the live hub).
    const warm = await round(1);
    for (const s of warm) s.close();
    await Promise.all(warm.map((s) => s.closed));
    const before = await heapAfterGc();

    const growth: { open: number; closed: number }[] = [];
    for (let r = 0; r < 2; r++) {
      const open = await round(DEFAULT_WEBSOCKET_LIMITS.maxConnectionsPerToken);
      // The subscriptions' own setup finishes after their subscribe messages were read.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const whileOpen = (await heapAfterGc()) - before;
      for (const s of open) s.close();
      await Promise.all(open.map((s) => s.closed));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const afterClose = (await heapAfterGc()) - before;
      growth.push({ open: whileOpen, closed: afterClose });
    }
    const mb = (x: number) => `${(x / 2 ** 20).toFixed(1)} MB`;
    console.log(`heap growth per round: ${growth.map((g) => `open ${mb(g.open)}, closed ${mb(g.closed)}`).join('; ')}`);
    for (const g of growth) {
      expect(g.open).toBeLessThan(OPEN_BOUND);
      expect(g.closed).toBeLessThan(AFTER_CLOSE_BOUND);
    }
  }, 300_000);
});
