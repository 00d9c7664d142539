import { createServer, type AddressInfo } from 'node:net';

/**
 * freePort asks the kernel for a port free on 127.0.0.1 right now. A restarted server must come
 * back on the same port its agents know, so ports are chosen once and not left to port 0.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
