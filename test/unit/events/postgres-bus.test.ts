import { describe, expect, it } from 'vitest';
import type { AppEvent } from '../../../src/events/bus.js';
import { createPostgresEventBus, notifyReplicas, type Notifications } from '../../../src/events/postgres-bus.js';
import { createLogger } from '../../../src/logger.js';

/** fakeServer is LISTEN/NOTIFY in memory: every listener of a channel hears every notification on it. */
function fakeServer(): Notifications & { sent: string[] } {
  const listeners = new Map<string, Set<(payload: string) => void>>();
  const sent: string[] = [];
  return {
    sent,
    async notify(channel, payload) {
      sent.push(payload);
      for (const l of listeners.get(channel) ?? []) l(payload);
    },
    async listen(channel, onMessage, onListen) {
      const set = listeners.get(channel) ?? new Set();
      listeners.set(channel, set);
      set.add(onMessage);
      onListen();
      return { unlisten: async () => void set.delete(onMessage) };
    },
  };
}

describe('notifyReplicas', () => {
  it("reaches the subscribers of every replica's bus, as one of their own events would", async () => {
    const server = fakeServer();
    const bus = await createPostgresEventBus(server, createLogger('silent'));
    const heard: AppEvent[] = [];
    bus.subscribe((e) => heard.push(e));
    await notifyReplicas(server, { type: 'summaryChanged' });
    expect(heard).toEqual([{ type: 'summaryChanged' }]);
    expect(server.sent).toHaveLength(1);
    await bus.close();
  });
});

const decided = (requestId: number, by: string, reason: string | null): AppEvent => ({
  type: 'clientAccessDecided',
  requestId,
  decision: 'REJECTED',
  by,
  at: '2026-01-01T00:00:00.000Z',
  reason,
});

describe('the PostgreSQL event bus', () => {
  it('keeps every notification under PostgreSQL’s 8000-byte limit when decisions carry text beyond ASCII, and delivers it intact', async () => {
    const server = fakeServer();
    const bus = await createPostgresEventBus(server, createLogger('silent'));
    const heard: AppEvent[] = [];
    bus.subscribe((e) => heard.push(e));
    // 200 rejections whose note is 500 characters of 3-byte UTF-8: far more than one payload holds.
    const sent = Array.from({ length: 200 }, (_, i) => decided(i + 1, 'Åsa Lindström', '—'.repeat(500)));
    for (const e of sent) bus.publish(e);
    for (let i = 0; i < 100 && heard.length < sent.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(heard).toEqual(sent);
    expect(server.sent.length).toBeGreaterThan(1);
    for (const p of server.sent) {
      expect(Buffer.byteLength(p, 'utf8')).toBeLessThan(8000);
      expect(p).toMatch(/^[\x20-\x7e]*$/);
    }
    await bus.close();
  });

  it('drops, and logs, an event too large for one notification instead of failing the ones after it', async () => {
    const server = fakeServer();
    const lines: string[] = [];
    const bus = await createPostgresEventBus(server, createLogger('debug', (l) => lines.push(l)));
    const heard: AppEvent[] = [];
    bus.subscribe((e) => heard.push(e));
    bus.publish(decided(1, 'x'.repeat(9000), null));
    bus.publish(decided(2, 'alice', null));
    for (let i = 0; i < 100 && heard.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(heard.map((e) => (e as { requestId: number }).requestId)).toEqual([2]);
    expect(lines.some((l) => l.includes('too large for one notification'))).toBe(true);
    await bus.close();
  });
});

describe('closing the PostgreSQL event bus', () => {
  it('sends what was published before the close, the coalesced summary included, and nothing after it', async () => {
    const server = fakeServer();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const notify = server.notify.bind(server);
    // The first notification waits, as over a busy connection, so the rest queue behind it.
    let first = true;
    server.notify = async (channel, payload) => {
      if (first) {
        first = false;
        await slow;
      }
      return notify(channel, payload);
    };
    const bus = await createPostgresEventBus(server, createLogger('silent'));
    bus.publish(decided(1, 'alice', null));
    bus.publish(decided(2, 'alice', null));
    bus.publish({ type: 'summaryChanged' });
    const closing = bus.close();
    bus.publish(decided(3, 'alice', null));
    setTimeout(release, 20);
    await closing;
    const sent = server.sent.flatMap((p) => {
      const parsed = JSON.parse(p) as AppEvent | AppEvent[];
      return Array.isArray(parsed) ? parsed : [parsed];
    });
    expect(sent).toEqual([decided(1, 'alice', null), decided(2, 'alice', null), { type: 'summaryChanged' }]);
    await new Promise((r) => setImmediate(r));
    expect(server.sent.flatMap((p) => JSON.parse(p) as unknown)).toHaveLength(3);
  });
});
