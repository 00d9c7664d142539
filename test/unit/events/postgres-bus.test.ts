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
