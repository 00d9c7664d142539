import { describe, expect, it } from 'vitest';
import { createInProcessEventBus } from '../../../src/events/bus.js';
import { createLiveHub, MAX_QUEUED_EVENTS, SubscriberTooSlowError } from '../../../src/events/live-hub.js';
import { createLogger } from '../../../src/logger.js';
import type { AuthStatusSummaryView, ClientCertificateView, DeviceView } from '../../../src/events/views.js';

const log = createLogger('silent');

function setup(pushIntervalMs = 20) {
  const bus = createInProcessEventBus(() => {});
  let version = 0;
  let summaryReads = 0;
  let deviceLoads = 0;
  const hub = createLiveHub({
    bus,
    pushIntervalMs,
    log,
    sources: {
      async readSummary() {
        summaryReads++;
        return { total: version } as AuthStatusSummaryView;
      },
      async loadDevices(ids) {
        deviceLoads++;
        return new Map(ids.map((id) => [id, { id: String(id) } as DeviceView]));
      },
      async loadRequests() {
        return new Map();
      },
    },
  });
  return {
    bus,
    hub,
    bump: () => {
      version++;
      bus.publish({ type: 'summaryChanged' });
    },
    reads: () => summaryReads,
    deviceLoads: () => deviceLoads,
  };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the live hub', () => {
  it('reads the summary once per push for all subscribers, not once per subscriber', async () => {
    const h = setup();
    const subs = Array.from({ length: 50 }, () => h.hub.summaries());
    await Promise.all(subs.map((s) => s.next()));
    const initial = h.reads();
    h.bump();
    await Promise.all(subs.map((s) => s.next()));
    expect(h.reads() - initial).toBe(1);
    h.hub.close();
  });

  it('coalesces a burst into few pushes whose last carries the final state', async () => {
    const h = setup(30);
    const sub = h.hub.summaries();
    await sub.next();
    const got: number[] = [];
    const reading = (async () => {
      for (;;) {
        const r = await Promise.race([sub.next(), tick(300).then(() => null)]);
        if (!r || r.done) return;
        got.push(r.value.total);
      }
    })();
    for (let i = 0; i < 500; i++) {
      h.bump();
      if (i % 50 === 0) await tick(10);
    }
    await reading;
    expect(got.at(-1)).toBe(500);
    expect(got.length).toBeLessThan(50);
    h.hub.close();
  });

  it('keeps only the newest summary for a subscriber that does not read', async () => {
    const h = setup(1);
    const slow = h.hub.summaries();
    await slow.next();
    for (let i = 0; i < 200; i++) {
      h.bump();
      await tick(2);
    }
    await tick(20);
    const r = await slow.next();
    expect(r.value.total).toBe(200);
    // Nothing older is waiting behind it.
    const next = await Promise.race([slow.next(), tick(50).then(() => 'nothing')]);
    expect(next).toBe('nothing');
    h.hub.close();
  });

  it('cuts off a device-change subscriber that falls too far behind, and frees it', async () => {
    const h = setup();
    const slow = h.hub.deviceChanges();
    for (let i = 0; i <= MAX_QUEUED_EVENTS; i++) {
      h.bus.publish({ type: 'deviceAuthStatusChanged', deviceId: i + 1, previous: 'NO_AUTHENTICATION_INFO', current: 'AUTHENTICATION_FAILED', at: new Date().toISOString() });
    }
    await tick(50);
    expect(h.hub.subscriberCount()).toBe(0);
    await expect(slow.next()).rejects.toBeInstanceOf(SubscriberTooSlowError);
    h.hub.close();
  });

  it('loads the devices of events published together in one read, and filters by target status', async () => {
    const h = setup();
    const all = h.hub.deviceChanges();
    const upOnly = h.hub.deviceChanges(['AUTHENTICATION_SUCCEEDED']);
    for (const [id, current] of [[1, 'AUTHENTICATION_FAILED'], [2, 'AUTHENTICATION_SUCCEEDED'], [3, 'AUTHENTICATION_FAILED']] as const) {
      h.bus.publish({ type: 'deviceAuthStatusChanged', deviceId: id, previous: 'NO_AUTHENTICATION_INFO', current, at: new Date().toISOString() });
    }
    const first = await all.next();
    expect(first.value.device.id).toBe('1');
    expect((await upOnly.next()).value.device.id).toBe('2');
    expect(h.deviceLoads()).toBe(1);
    await all.return!();
    expect(h.hub.subscriberCount()).toBe(1);
    h.hub.close();
  });
  it('loads new requests and decisions of one tick in one read, and filters decisions by kind', async () => {
    const bus = createInProcessEventBus(() => {});
    const loads: number[][] = [];
    const hub = createLiveHub({
      bus,
      pushIntervalMs: 10,
      log,
      sources: {
        async readSummary() {
          return { total: 0 } as AuthStatusSummaryView;
        },
        async loadDevices() {
          return new Map();
        },
        async loadRequests(ids) {
          loads.push([...ids].sort());
          return new Map(ids.map((id) => [id, { id: String(id) } as ClientCertificateView]));
        },
      },
    });
    const requests = hub.accessRequests();
    const all = hub.accessDecisions();
    const revokedOnly = hub.accessDecisions(['REVOKED']);
    const at = '2026-01-01T00:00:00.000Z';
    bus.publish({ type: 'clientAccessRequested', requestId: 3 });
    bus.publish({ type: 'clientAccessDecided', requestId: 1, decision: 'APPROVED', by: 'alice', at, reason: null });
    bus.publish({ type: 'clientAccessDecided', requestId: 2, decision: 'REVOKED', by: 'alice', at, reason: 'KEY_COMPROMISE' });
    expect((await requests.next()).value!.id).toBe('3');
    expect((await all.next()).value).toEqual({ request: { id: '1' }, decision: 'APPROVED', decidedBy: 'alice', decidedAt: new Date(at), reason: null });
    expect((await all.next()).value!.decision).toBe('REVOKED');
    expect((await revokedOnly.next()).value).toMatchObject({ request: { id: '2' }, reason: 'KEY_COMPROMISE' });
    expect(loads).toEqual([[1, 2, 3]]);
    expect(hub.subscriberCount()).toBe(3);
    await revokedOnly.return!();
    expect(hub.subscriberCount()).toBe(2);
    hub.close();
  });

  it('keeps device changes in order when an earlier batch loads slower than a later one', async () => {
    const bus = createInProcessEventBus(() => {});
    let call = 0;
    const hub = createLiveHub({
      bus,
      pushIntervalMs: 10,
      log,
      sources: {
        async readSummary() {
          return { total: 0 } as AuthStatusSummaryView;
        },
        async loadDevices(ids) {
          // The first read is slow, the second fast.
          if (call++ === 0) await tick(80);
          return new Map(ids.map((id) => [id, { id: String(id) } as DeviceView]));
        },
        async loadRequests() {
          return new Map();
        },
      },
    });
    const sub = hub.deviceChanges();
    const at = new Date().toISOString();
    bus.publish({ type: 'deviceAuthStatusChanged', deviceId: 1, previous: 'NO_AUTHENTICATION_INFO', current: 'AUTHENTICATION_SUCCEEDED', at });
    await tick(5); // the next event lands in a batch of its own
    bus.publish({ type: 'deviceAuthStatusChanged', deviceId: 1, previous: 'AUTHENTICATION_SUCCEEDED', current: 'AUTHENTICATION_FAILED', at });
    const first = await sub.next();
    const second = await sub.next();
    expect([first.value!.current, second.value!.current]).toEqual(['AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED']);
    expect(call).toBe(2);
    hub.close();
  });
});
