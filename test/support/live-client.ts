import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** LiveSubscription collects what one graphql-ws subscription receives, for assertions. */
export interface LiveSubscription<T> {
  messages: T[];
  errors: unknown[];
  /** until waits (bounded) for a message that satisfies pred, among those received so far or later. */
  until(pred: (m: T) => boolean, timeoutMs?: number, what?: string): Promise<T>;
  /** firstError waits (bounded) for the first error the subscription receives. */
  firstError(timeoutMs?: number): Promise<unknown>;
  /** quiet resolves once no message arrived for ms milliseconds. */
  quiet(ms: number, maxWaitMs?: number): Promise<void>;
  /** closed resolves with the socket's close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  dispose(): void;
}

/** subscribeLive opens a graphql-ws client on url with connectionParams and runs one subscription. */
export function subscribeLive<T>(
  url: string,
  connectionParams: Record<string, unknown>,
  query: string,
  variables: Record<string, unknown> = {},
): LiveSubscription<T> {
  const messages: T[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  let lastAt = Date.now();
  let resolveClosed!: (c: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
  const client: Client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    on: {
      closed: (event) => {
        const e = event as { code?: number; reason?: string };
        resolveClosed({ code: e.code ?? 0, reason: String(e.reason ?? '') });
      },
    },
    onNonLazyError: () => {},
  });
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(value.errors);
        if (value.data) messages.push(value.data as T);
        lastAt = Date.now();
        for (const w of [...waiters]) w();
      },
      error: (err) => {
        errors.push(err);
        for (const w of [...waiters]) w();
      },
      complete: () => {},
    },
  );
  return {
    messages,
    errors,
    closed,
    until(pred, timeoutMs = 10_000, what = 'a matching message') {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const found = messages.find(pred);
          if (found !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages).slice(0, 500)} errors ${JSON.stringify(errors).slice(0, 300)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    firstError(timeoutMs = 10_000) {
      return new Promise<unknown>((resolve, reject) => {
        const check = () => {
          if (errors.length > 0) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(errors[0]);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for an error; got ${JSON.stringify(messages).slice(0, 500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async quiet(ms, maxWaitMs = 20_000) {
      const start = Date.now();
      while (Date.now() - lastAt < ms) {
        if (Date.now() - start > maxWaitMs) throw new Error('messages kept coming');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    dispose() {
      dispose();
      void client.dispose();
    },
  };
}
