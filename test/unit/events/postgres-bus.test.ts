import { describe, expect, it } from 'vitest';
import type { AppEvent } from '../../../src/events/bus.js';
import { createPostgresEventBus, type Notifications } from '../../../src/events/postgres-bus.js';
import { createLogger } from '../../../src/logger.js';

/** loopback stands in for LISTEN/NOTIFY: every payload comes back to the listener, and is kept. */
function loopback() {
  const payloads: string[] = [];
  let deliver: (payload: string) => void = () => {};
  const notifications: Notifications = {
    async notify(_channel, payload) {
      payloads.push(payload);
      setImmediate(() => deliver(payload));
    },
    async listen(_channel, onMessage, onListen) {
      deliver = onMessage;
      onListen();
      return { unlisten: async () => {} };
    },
  };
  return { notifications, payloads };
}

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
    const { notifications, payloads } = loopback();
    const bus = await createPostgresEventBus(notifications, createLogger('silent'));
    const heard: AppEvent[] = [];
    bus.subscribe((e) => heard.push(e));
    // 200 rejections whose note is 500 characters of 3-byte UTF-8: far more than one payload holds.
    const sent = Array.from({ length: 200 }, (_, i) => decided(i + 1, 'Åsa Lindström', '—'.repeat(500)));
    for (const e of sent) bus.publish(e);
    for (let i = 0; i < 100 && heard.length < sent.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(heard).toEqual(sent);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) {
      expect(Buffer.byteLength(p, 'utf8')).toBeLessThan(8000);
      expect(p).toMatch(/^[\x20-\x7e]*$/);
    }
    await bus.close();
  });

  it('drops, and logs, an event too large for one notification instead of failing the ones after it', async () => {
    const { notifications } = loopback();
    const lines: string[] = [];
    const bus = await createPostgresEventBus(notifications, createLogger('debug', (l) => lines.push(l)));
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
