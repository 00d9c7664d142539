import type { IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';

/** A message the server sent for one operation id (graphql-transport-ws). */
export interface OperationMessage {
  id: string;
  type: 'next' | 'error' | 'complete';
  payload?: unknown;
}

/**
 * RawSocket speaks graphql-transport-ws by hand over one `ws` socket, for tests that need what a
 * client library hides: several operations on one socket, the exact messages per id, the close
 * code, and little memory of its own.
 */
export interface RawSocket {
  /** acknowledged resolves on connection_ack and rejects when the socket closes first. */
  acknowledged: Promise<void>;
  /** closed resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** upgraded resolves with the headers of the server's 101 answer. */
  upgraded: Promise<IncomingHttpHeaders>;
  /** subscribe sends a subscribe message; the operation's messages arrive through messagesFor. */
  subscribe(id: string, query: string, variables?: Record<string, unknown>, operationName?: string): void;
  /** complete tells the server the client ends operation id. */
  complete(id: string): void;
  /** send sends raw text (for oversized or malformed messages). */
  send(text: string): void;
  /** messagesFor lists what arrived for id so far. */
  messagesFor(id: string): OperationMessage[];
  /** until waits (bounded) for the first message for id that satisfies pred. */
  until(id: string, pred: (m: OperationMessage) => boolean, timeoutMs?: number): Promise<OperationMessage>;
  close(): void;
}

/** openRawSocket connects to a GraphQL URL with a bearer token in connection_init (and headers on the upgrade request, if given). */
export function openRawSocket(url: string, token: string, headers: Record<string, string> = {}): RawSocket {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
  const upgraded = new Promise<IncomingHttpHeaders>((resolve) => ws.once('upgrade', (res) => resolve(res.headers)));
  const byId = new Map<string, OperationMessage[]>();
  const waiters = new Set<() => void>();
  let ack!: () => void;
  let noAck!: (err: Error) => void;
  const acknowledged = new Promise<void>((resolve, reject) => {
    ack = resolve;
    noAck = reject;
  });
  acknowledged.catch(() => undefined); // a test that expects a refusal need not wait for it
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      noAck(new Error(`socket closed before connection_ack: ${code} ${reason.toString()}`));
      resolve({ code, reason: reason.toString() });
      for (const w of [...waiters]) w();
    });
  });
  ws.on('error', () => undefined); // the close event says what happened
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { type: string; id?: string; payload?: unknown };
    if (msg.type === 'connection_ack') ack();
    else if (msg.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
    else if (msg.id !== undefined) {
      const list = byId.get(msg.id) ?? [];
      list.push(msg as OperationMessage);
      byId.set(msg.id, list);
      for (const w of [...waiters]) w();
    }
  });
  const sendJson = (value: unknown) => ws.send(JSON.stringify(value));
  return {
    acknowledged,
    closed,
    upgraded,
    subscribe: (id, query, variables, operationName) =>
      sendJson({ id, type: 'subscribe', payload: { query, ...(variables ? { variables } : {}), ...(operationName ? { operationName } : {}) } }),
    complete: (id) => sendJson({ id, type: 'complete' }),
    send: (text) => ws.send(text),
    messagesFor: (id) => byId.get(id) ?? [],
    until(id, pred, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = (byId.get(id) ?? []).find(pred);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          } else if (ws.readyState === WebSocket.CLOSED) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`socket closed while waiting for a message for ${id}; got ${JSON.stringify(byId.get(id) ?? []).slice(0, 300)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for a message for ${id}; got ${JSON.stringify(byId.get(id) ?? []).slice(0, 300)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => ws.close(1000),
  };
}

/** settled is true once a message says the operation is over: its error, or its complete. */
export const settled = (m: OperationMessage) => m.type === 'error' || m.type === 'complete';
