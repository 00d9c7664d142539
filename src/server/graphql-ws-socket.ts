import type { IncomingMessage } from 'node:http';
import { CloseCode, DEPRECATED_GRAPHQL_WS_PROTOCOL, handleProtocols, makeServer, type ConnectionInitMessage, type ServerOptions } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { RawData, WebSocket, WebSocketServer } from 'ws';

/**
 * useLeanServer serves graphql-ws on a `ws` server as graphql-ws's own `useServer` (graphql-ws/use/ws)
 * does, with the same protocol, hooks, close codes and keep-alive, but keeps less per socket: an
 * open dashboard is held for hours, and a replica holds tens of thousands of them.
 *
 * What `useServer` keeps per socket and this does not: a keep-alive interval timer (here one sweep
 * pings every socket and ends those that did not answer the last ping, which is what the timers
 * did), the suspended async message handler of each subscription with the raw message it came in
 * (here the handler is synchronous and the message is passed on as text), once-wrappers around its
 * error and close listeners, and a closure for each of send, close and onMessage (here methods of
 * one small object per socket, whose listeners are shared by all sockets).
 */
export function useLeanServer<P extends ConnectionInitMessage['payload'], E extends Record<PropertyKey, unknown>>(
  options: ServerOptions<P, Extra & Partial<E>>,
  ws: WebSocketServer,
  keepAliveMs = 12_000,
): { dispose(): Promise<void> } {
  const isProd = process.env.NODE_ENV === 'production';
  const server = makeServer(options);
  const sockets = new WeakMap<WebSocket, LeanSocket>();
  ws.options.handleProtocols = handleProtocols;
  ws.once('error', (err) => {
    console.error('Internal error emitted on the WebSocket server. Please check your implementation.', err);
    let firstErr: unknown = null;
    for (const client of ws.clients) {
      try {
        client.close(CloseCode.InternalServerError, closeReason(isProd, err));
      } catch (err2) {
        firstErr = firstErr ?? err2;
      }
    }
    if (firstErr) throw firstErr;
  });

  // Keep-alive: every keepAliveMs, each open socket that has not answered the previous ping is
  // ended, and every other one is pinged.
  const awaitingPong = new WeakSet<WebSocket>();
  const keepAlive =
    keepAliveMs > 0 && Number.isFinite(keepAliveMs)
      ? setInterval(() => {
          for (const socket of ws.clients) {
            if (socket.readyState !== socket.OPEN) continue;
            if (awaitingPong.has(socket)) {
              socket.terminate();
              continue;
            }
            awaitingPong.add(socket);
            socket.ping();
          }
        }, keepAliveMs)
      : undefined;
  keepAlive?.unref();

  // The listeners are the same functions for every socket (ws calls them with the socket as this).
  function onPong(this: WebSocket) {
    awaitingPong.delete(this);
  }
  function onError(this: WebSocket, err: Error) {
    console.error('Internal error emitted on a WebSocket socket. Please check your implementation.', err);
    this.close(CloseCode.InternalServerError, closeReason(isProd, err));
  }
  function onMessage(this: WebSocket, data: RawData) {
    sockets.get(this)?.receive(data);
  }
  function onClose(this: WebSocket, code: number, reason: Buffer) {
    awaitingPong.delete(this);
    const lean = sockets.get(this);
    sockets.delete(this);
    if (!isProd && code === CloseCode.SubprotocolNotAcceptable && this.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL) {
      console.warn(
        `Client provided the unsupported and deprecated subprotocol "${this.protocol}" used by subscriptions-transport-ws.` +
          'Please see https://www.apollographql.com/docs/apollo-server/data/subscriptions/#switching-from-subscriptions-transport-ws.',
      );
    }
    void lean?.closed?.(code, String(reason));
  }

  ws.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.on('error', onError);
    socket.on('pong', onPong);
    const lean = new LeanSocket(socket, isProd);
    sockets.set(socket, lean);
    socket.on('message', onMessage);
    lean.closed = server.opened(lean, { socket, request } as Extra & Partial<E>);
    socket.on('close', onClose);
  });

  return {
    async dispose() {
      if (keepAlive) clearInterval(keepAlive);
      for (const client of ws.clients) client.close(1001, 'Going away');
      ws.removeAllListeners();
      await new Promise<void>((resolve, reject) => ws.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function closeReason(isProd: boolean, err: unknown): string {
  if (isProd) return 'Internal server error';
  const reason = err instanceof Error ? err.message : String(err);
  return reason.length < 124 ? reason : 'Internal server error';
}

/** LeanSocket is graphql-ws's view of one socket: its methods are shared, its fields are all it keeps. */
class LeanSocket {
  readonly protocol: string;
  private handler: ((data: string) => Promise<void>) | undefined;
  closed: ((code: number, reason: string) => Promise<void>) | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly isProd: boolean,
  ) {
    this.protocol = socket.protocol;
  }

  send(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.readyState !== this.socket.OPEN) return resolve();
      this.socket.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    this.handler = cb;
  }

  /** receive hands one message on as text; a subscription's handler stays pending while it runs. */
  receive(data: RawData): void {
    const handler = this.handler;
    if (!handler) return;
    let done: Promise<void>;
    try {
      done = handler(String(data));
    } catch (err) {
      return this.fail(err);
    }
    done.then(undefined, (err: unknown) => this.fail(err));
  }

  private fail(err: unknown): void {
    console.error('Internal error occurred during message handling. Please check your implementation.', err);
    this.socket.close(CloseCode.InternalServerError, closeReason(this.isProd, err));
  }
}
