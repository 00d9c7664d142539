import type { Notifications } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { AppEvent, EventBus, EventListener } from './bus.js';

/** CHANNEL is the NOTIFY channel every replica listens on. */
export const CHANNEL = 'certfleet_events';

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
      let event: AppEvent;
      try {
        event = JSON.parse(payload) as AppEvent;
      } catch {
        log.warn('ignored a malformed notification', { channel: CHANNEL });
        return;
      }
      deliver(event);
    },
    () => {
      connections++;
      if (connections > 1) {
        log.info('event listener reconnected: re-sending the current summary');
        deliver({ type: 'summaryChanged' });
      }
    },
  );

  // A burst of changes needs one summaryChanged notification, not one per change.
  let summaryQueued = false;
  const send = (event: AppEvent) => {
    notifications.notify(CHANNEL, JSON.stringify(event)).catch((err) => {
      // The change itself is committed; a dashboard catches up with the next change or reconnect.
      log.error('could not notify the other replicas', { error: err, event: event.type });
    });
  };
  return {
    publish(event) {
      if (event.type !== 'summaryChanged') return send(event);
      if (summaryQueued) return;
      summaryQueued = true;
      setImmediate(() => {
        summaryQueued = false;
        send({ type: 'summaryChanged' });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      await subscription.unlisten().catch(() => {});
    },
  };
}
