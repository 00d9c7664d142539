import type { AuthStatus, ClientAccessDecision } from '../domain/statuses.js';
import { outsideLogContext } from '../logger.js';

/**
 * AppEvent is everything services announce after a commit. Payloads are ids and counts, and for a
 * decision the facts of the decision itself (who, when, why), which the row does not keep for a
 * revocation; subscribers read the rest as it stands.
 */
export type AppEvent =
  | { type: 'summaryChanged' }
  | {
      type: 'deviceAuthStatusChanged';
      deviceId: number;
      previous: AuthStatus;
      current: AuthStatus;
      at: string;
    }
  | { type: 'clientAccessRequested'; requestId: number }
  | {
      type: 'clientAccessDecided';
      requestId: number;
      decision: ClientAccessDecision;
      /** The caller's subject, or system:renewal / system:auto-approval. */
      by: string;
      at: string;
      /** The reject note or the revocation reason; null when there is none. */
      reason: string | null;
    };

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
      // Subscribers serve everyone, not the request whose commit published the event: what they
      // start (pushes, batches) must not log under its id.
      outsideLogContext(() => {
        for (const l of [...listeners]) {
          try {
            l(event);
          } catch (err) {
            // One faulty subscriber must not keep the event from the others.
            onListenerError(err);
          }
        }
      });
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
