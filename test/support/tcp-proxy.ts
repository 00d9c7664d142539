import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** TcpProxy forwards a local port to a database server, and can make that server vanish and come back. */
export interface TcpProxy {
  port: number;
  /** cut destroys every forwarded connection and stops listening: new connections are refused. */
  cut(): Promise<void>;
  /** freeze keeps connections open but forwards nothing: the database hangs instead of refusing. */
  freeze(): void;
  /** restore listens on the same port again (after cut) or forwards again (after freeze). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** startTcpProxy forwards 127.0.0.1:<free port> to target, so a test can take the database away without touching the shared server. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  // Each direction of each forwarded connection: freeze unpipes them (pause alone may be undone by a pipe's drain).
  const links = new Set<readonly [Socket, Socket]>();
  // Connections accepted while frozen wait here for their upstream until restore.
  const held: Socket[] = [];
  let frozen = false;
  let server: Server | undefined;
  let port = 0;

  const forward = (client: Socket) => {
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    for (const link of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      const [a, b] = link;
      links.add(link);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        links.delete(link);
        b.destroy();
      });
    }
  };

  const listen = async () => {
    server = createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      if (frozen) {
        client.on('error', () => client.destroy());
        held.push(client);
      } else {
        forward(client);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => {
        server!.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
  };

  const stopListening = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    links.clear();
    held.length = 0;
    await closed;
  };

  await listen();
  return {
    get port() {
      return port;
    },
    cut: stopListening,
    freeze() {
      frozen = true;
      for (const [a, b] of links) {
        a.unpipe(b);
        a.pause();
      }
    },
    async restore() {
      if (frozen) {
        frozen = false;
        for (const [a, b] of links) a.pipe(b);
        for (const client of held.splice(0)) if (!client.destroyed) forward(client);
      }
      if (!server) await listen();
    },
    close: stopListening,
  };
}
