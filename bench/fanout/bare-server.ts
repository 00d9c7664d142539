// The fan-out benchmark's baseline server, forked by runner.ts: a bare `ws` WebSocketServer in a
// process of its own, so that its sockets count against neither the certfleet process's open-file
// limit nor its heap. On `broadcast` it sends one graphql-ws-shaped message of the asked size to
// every open socket and reports when its send loop started and returned (process.hrtime).
import type { AddressInfo } from 'node:net';
import { isMain } from '../../src/cli/is-main.js';
import { collectGarbage, settledMemory } from './measure.js';
import type { FromBare, ToBare } from './protocol.js';

/** bareMessage is a graphql-ws-shaped `next` message of exactly `bytes` bytes carrying seq. */
export function bareMessage(seq: number, bytes: number): string {
  const head = `{"id":"1","type":"next","payload":{"data":{"bare":{"seq":${seq},"pad":"`;
  const tail = '"}}}}';
  const pad = Math.max(0, bytes - head.length - tail.length);
  return head + 'x'.repeat(pad) + tail;
}

export async function runBareServer(): Promise<void> {
  const { default: WebSocket, WebSocketServer } = await import('ws');
  const gc = collectGarbage();
  const send = (m: FromBare) => process.send!(m);
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', fail);
  });
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const m = raw as ToBare;
    void (async () => {
      try {
        if (m.op === 'memory') send({ op: 'memory', mem: await settledMemory(gc) });
        else if (m.op === 'count') send({ op: 'count', n: server.clients.size });
        else if (m.op === 'broadcast') {
          const message = bareMessage(m.round, m.bytes);
          let n = 0;
          const start = process.hrtime.bigint();
          for (const ws of server.clients) {
            if (ws.readyState === WebSocket.OPEN) {
              ws.send(message);
              n++;
            }
          }
          const end = process.hrtime.bigint();
          send({ op: 'sent', round: m.round, start: String(start), end: String(end), n });
        } else if (m.op === 'exit') {
          for (const ws of server.clients) ws.terminate();
          server.close(() => process.exit(0));
        }
      } catch (err) {
        send({ op: 'error', message: (err as Error).message });
      }
    })();
  });
  send({ op: 'ready', url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` });
}

if (isMain(import.meta.url)) {
  runBareServer().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
