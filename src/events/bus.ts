import type { AuthStatus } from '../domain/statuses.js';

/** AppEvent is everything services announce after a commit; payloads are ids and counts only. */
export type AppEvent =
  | { type: 'summaryChanged' }
  | {
      type: 'deviceAuthStatusChanged';
      deviceId: number;
      previous: AuthStatus;
      current: AuthStatus;
      at: string;
    }
  | { type: 'clientAccessRequested'; requestId: number };

export type EventListener = (event: AppEvent) => void;

/** EventBus carries committed events to subscribers (in process; across replicas in a later step). */
export interface EventBus {
  publish(event: AppEvent): void;
  subscribe(listener: EventListener): () => void;
  close(): Promise<void>;
}

/** createInProcessEventBus is the bus of a single process, as used with the embedded database. */
export function createInProcessEventBus(onListenerError: (err: unknown) => void): EventBus {
  const listeners = new Set<EventListener>();
  return {
    publish(event) {
      for (const l of [...listeners]) {
        try {
          l(event);
        } catch (err) {
          // One faulty subscriber must not keep the event from the others.
          onListenerError(err);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
  };
}
