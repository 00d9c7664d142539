// The sustained benchmark's baseline in a process of its own (forked by runner.ts), so the bare
// https server, like certfleet's core in the runner's process, has an event loop to itself: the
// gateway benchmark's bare server (bench/gateway/bare-server.ts), unchanged. It is handed the
// benchmark core's throwaway CA (made in the run's temp DATA_DIR or scratch database) over IPC to
// issue its own server certificate, as the gateway benchmark's does in-process; the key is never
// written or logged.
import { createPrivateKey } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import { isMain } from '../../src/cli/is-main.js';

export type ToBare = { op: 'start'; caCertificatePem: string; caKeyPem: string } | { op: 'cpu' } | { op: 'exit' };
export type FromBare = { op: 'ready' } | { op: 'listening'; port: number } | { op: 'cpu'; ms: number } | { op: 'error'; message: string };

async function serve(): Promise<void> {
  const { startBareServer } = await import('../gateway/bare-server.js');
  const send = (m: FromBare) => process.send!(m);
  let server: HttpsServer | undefined;
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const m = raw as ToBare;
    void (async () => {
      try {
        if (m.op === 'start') {
          const s = await startBareServer({ certificatePem: m.caCertificatePem, privateKey: createPrivateKey(m.caKeyPem) });
          server = s.server;
          send({ op: 'listening', port: s.port });
        } else if (m.op === 'cpu') {
          const u = process.cpuUsage();
          send({ op: 'cpu', ms: (u.user + u.system) / 1000 });
        } else if (m.op === 'exit') {
          server?.closeAllConnections();
          server?.close();
          process.exit(0);
        }
      } catch (err) {
        send({ op: 'error', message: (err as Error).message });
      }
    })();
  });
  send({ op: 'ready' });
}

if (isMain(import.meta.url)) {
  serve().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
