import { outsideLogContext, type Logger } from '../logger.js';
import type { AppEvent, EventBus, EventListener } from './bus.js';

/** Notifications carries small messages between the replicas that share one PostgreSQL server. */
export interface Notifications {
  notify(channel: string, payload: string): Promise<void>;
  /** listen calls onMessage for each notification; onListen after every (re)connection of the listener. */
  listen(channel: string, onMessage: (payload: string) => void, onListen: () => void): Promise<{ unlisten(): Promise<void> }>;
}

/** CHANNEL is the NOTIFY channel every replica listens on. */
const CHANNEL = 'certfleet_events';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; events travel as ASCII JSON, so characters are bytes. */
const MAX_PAYLOAD_CHARS = 7900;
/** CLOSE_DRAIN_MS bounds how long close() waits for queued notifications to leave. */
const CLOSE_DRAIN_MS = 2000;

/** asciiJson writes an event as JSON with everything beyond ASCII (a subject, a reject note) as \u escapes. */
function asciiJson(event: AppEvent): string {
  return JSON.stringify(event).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * notifyReplicas sends one committed event to the bus of every replica on this PostgreSQL server,
 * for a tool that commits changes without a bus of its own (the bulk seed): subscribers hear it
 * as if a replica had published it.
 */
export async function notifyReplicas(notifications: Notifications, event: AppEvent): Promise<void> {
  const payload = asciiJson(event);
  if (payload.length > MAX_PAYLOAD_CHARS) throw new RangeError(`an event of ${payload.length} characters does not fit in one notification`);
  await notifications.notify(CHANNEL, payload);
}

/**
 * createPostgresEventBus carries committed events to the subscribers of every replica through
 * LISTEN/NOTIFY. A replica hears its own notifications too, so local and remote events take one
 * path. After the listener reconnects, a summaryChanged is raised locally: whatever was missed
 * while it was away, dashboards get the current state.
 */
export async function createPostgresEventBus(notifications: Notifications, log: Logger): Promise<EventBus> {
  const listeners = new Set<EventListener>();
  let connections = 0;
  const deliver = (event: AppEvent) => {
    for (const l of [...listeners]) {
      try {
        l(event);
      } catch (err) {
        log.error('event listener failed', { error: err });
      }
    }
  };
  const subscription = await notifications.listen(
    CHANNEL,
    (payload) => {
      let events: AppEvent[];
      try {
        const parsed = JSON.parse(payload) as AppEvent | AppEvent[];
        events = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        log.warn('ignored a malformed notification', { channel: CHANNEL });
        return;
      }
      for (const event of events) deliver(event);
    },
    () => {
      connections++;
      if (connections > 1) {
        log.info('event listener reconnected: re-sending the current summary');
        deliver({ type: 'summaryChanged' });
      }
    },
  );

  // Events leave in the order they were published: one notification at a time (two in flight on
  // different pool connections could arrive swapped), and what queued up meanwhile goes together
  // as one JSON array, kept under the NOTIFY payload limit.
  const outgoing: string[] = [];
  let sending: Promise<void> | undefined;
  function drain(): Promise<void> {
    sending ??= sendAll().finally(() => (sending = undefined));
    return sending;
  }
  async function sendAll() {
    while (outgoing.length > 0) {
      let payload = outgoing.shift()!;
      let count = 1;
      while (outgoing.length > 0 && payload.length + outgoing[0]!.length + 3 <= MAX_PAYLOAD_CHARS) {
        payload += `,${outgoing.shift()!}`;
        count++;
      }
      try {
        await notifications.notify(CHANNEL, count === 1 ? payload : `[${payload}]`);
      } catch (err) {
        // The changes themselves are committed; a dashboard catches up with the next change or reconnect.
        log.error('could not notify the other replicas', { error: err, events: count });
      }
    }
  }
  let closed = false;
  const send = (event: AppEvent) => {
    if (closed) return;
    const json = asciiJson(event);
    if (json.length > MAX_PAYLOAD_CHARS) {
      // Only a decision can be this large (a subject of kilobytes); its change is committed all the same.
      log.error('an event too large for one notification was not sent to subscribers', { type: event.type, chars: json.length });
      return;
    }
    outgoing.push(json);
    void drain();
  };

  // A burst of changes needs one summaryChanged notification, not one per change.
  let summaryQueued = false;
  return {
    publish(event) {
      // Notifications are sent for many requests together: not under the id of the one that
      // happened to publish first.
      outsideLogContext(() => {
        if (event.type !== 'summaryChanged') return send(event);
        if (summaryQueued) return;
        summaryQueued = true;
        setImmediate(() => {
          if (!summaryQueued) return; // close() sent it already
          summaryQueued = false;
          send({ type: 'summaryChanged' });
        });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      // What was committed before the close still reaches the other replicas: the queued
      // notifications go out first, for at most CLOSE_DRAIN_MS, while the connection is still open.
      if (summaryQueued) outgoing.push(asciiJson({ type: 'summaryChanged' }));
      summaryQueued = false;
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_DRAIN_MS)))]);
      clearTimeout(timer);
      listeners.clear();
      await subscription.unlisten().catch(() => {});
    },
  };
}
