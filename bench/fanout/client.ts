// One of the fan-out benchmark's client children, forked by runner.ts: its share of the N graphql-ws
// subscribers (the protocol spoken by hand over `ws`: connection_init with the bearer token,
// connection_ack, subscribe, first `next`) and of the N bare sockets, each on its own WebSocket; it
// times when each of its sockets has a round's message.
import type WebSocketType from 'ws';
import { isMain } from '../../src/cli/is-main.js';
import { ROUND_TIMEOUT_MS, SUMMARY_QUERY, type FromClient, type Kind, type ToClient } from './protocol.js';

interface ClientSocket {
  ws: WebSocketType;
  kind: Kind;
  /** The round this socket last counted a matching message for. */
  counted: number;
  onFirst?: (bytes: number) => void;
  closing: boolean;
}
/** runClient serves the runner over IPC until it says exit or disconnects. */
export async function runClient(): Promise<void> {
  const { default: WebSocket } = await import('ws');
  const send = (m: FromClient) => process.send!(m);
  const sockets: Record<Kind, ClientSocket[]> = { certfleet: [], bare: [] };
  let armed:
    | {
        kind: Kind;
        round: number;
        expect: { succeeded: number; failed: number } | { seq: number };
        n: number;
        count: number;
        first: bigint;
        last: bigint;
        bytes: number;
        stray: number;
      }
    | undefined;
  let stray = 0;
  let unexpectedCloses = 0;
  let fatal: string | undefined;

  const fail = (message: string) => {
    if (fatal) return;
    fatal = message;
    send({ op: 'error', message });
  };

  function onMessage(s: ClientSocket, data: Buffer) {
    const at = process.hrtime.bigint();
    let msg: { type?: string; id?: string; payload?: { data?: Record<string, any>; errors?: unknown } };
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      stray++;
      return;
    }
    if (s.kind === 'certfleet') {
      if (msg.type === 'connection_ack') {
        s.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUMMARY_QUERY } }));
        return;
      }
      if (msg.type === 'ping') {
        s.ws.send(JSON.stringify({ type: 'pong' }));
        return;
      }
      if (msg.type === 'error' || msg.type === 'complete' || msg.payload?.errors) {
        fail(`a subscriber got ${msg.type}: ${JSON.stringify(msg.payload ?? null).slice(0, 300)}`);
        return;
      }
      if (msg.type !== 'next') return;
    }
    if (s.onFirst) {
      const f = s.onFirst;
      s.onFirst = undefined;
      f(data.length);
      return;
    }
    const a = armed;
    if (!a || a.kind !== s.kind || s.counted === a.round) {
      if (a) a.stray++;
      else stray++;
      return;
    }
    let ok: boolean;
    if ('seq' in a.expect) {
      ok = msg.payload?.data?.bare?.seq === a.expect.seq;
    } else {
      const summary = msg.payload?.data?.authStatusSummaryChanged as { succeeded?: number; failed?: number } | undefined;
      ok = summary?.succeeded === a.expect.succeeded && summary?.failed === a.expect.failed;
    }
    if (!ok) {
      a.stray++;
      return;
    }
    s.counted = a.round;
    if (a.count === 0) a.first = at;
    a.last = at;
    a.bytes = data.length;
    a.count++;
    if (a.count === a.n) {
      armed = undefined;
      send({ op: 'done', kind: a.kind, round: a.round, first: String(a.first), last: String(a.last), bytes: a.bytes, stray: a.stray });
    }
  }

  function openOne(kind: Kind, url: string, token: string | undefined): Promise<{ socket: ClientSocket; bytes: number }> {
    return new Promise((resolveOpen, rejectOpen) => {
      const ws =
        kind === 'certfleet'
          ? new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false })
          : new WebSocket(url, { perMessageDeflate: false });
      const s: ClientSocket = { ws, kind, counted: -1, closing: false };
      let settled = false;
      const timer = setTimeout(() => done(new Error(`a ${kind} socket did not open within ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
      const done = (err: Error | null, bytes = 0) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          ws.terminate();
          rejectOpen(err);
        } else resolveOpen({ socket: s, bytes });
      };
      if (kind === 'certfleet') s.onFirst = (bytes) => done(null, bytes);
      ws.on('open', () => {
        if (kind === 'certfleet') {
          ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
        } else done(null);
      });
      ws.on('message', (data) => onMessage(s, data as Buffer));
      ws.on('error', (err) => done(err));
      ws.on('close', (code, reason) => {
        if (!settled) return done(new Error(`a ${kind} socket closed while opening: ${code} ${reason.toString()}`));
        if (!s.closing) {
          unexpectedCloses++;
          fail(`a ${kind} socket closed unexpectedly: ${code} ${reason.toString()}`);
        }
      });
    });
  }

  async function openMany(kind: Kind, n: number, url: string, inFlight: number, token?: string) {
    const t0 = performance.now();
    let next = 0;
    let firstBytes = 0;
    await Promise.all(
      Array.from({ length: Math.min(inFlight, n) }, async () => {
        while (next < n) {
          next++;
          const { socket, bytes } = await openOne(kind, url, token);
          sockets[kind].push(socket);
          if (bytes > firstBytes) firstBytes = bytes;
        }
      }),
    );
    return { ms: performance.now() - t0, firstBytes };
  }

  async function closeAll(kind: Kind) {
    const list = sockets[kind];
    sockets[kind] = [];
    await Promise.all(
      list.map(
        (s) =>
          new Promise<void>((ok) => {
            s.closing = true;
            if (s.ws.readyState === WebSocket.CLOSED) return ok();
            const t = setTimeout(() => {
              s.ws.terminate();
              ok();
            }, 5_000);
            s.ws.once('close', () => {
              clearTimeout(t);
              ok();
            });
            s.ws.close(1000, 'bench done');
          }),
      ),
    );
  }

  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const m = raw as ToClient;
    void (async () => {
      try {
        if (m.op === 'open') {
          const { ms, firstBytes } = await openMany(m.kind, m.n, m.url, m.inFlight, m.token);
          send({ op: 'opened', kind: m.kind, n: sockets[m.kind].length, ms, firstBytes });
        } else if (m.op === 'arm') {
          armed = { kind: m.kind, round: m.round, expect: m.expect, n: sockets[m.kind].length, count: 0, first: 0n, last: 0n, bytes: 0, stray: 0 };
          send({ op: 'armed', round: m.round });
        } else if (m.op === 'close') {
          await closeAll(m.kind);
          send({ op: 'closed', kind: m.kind, unexpectedCloses });
        } else if (m.op === 'exit') {
          await Promise.all([closeAll('certfleet'), closeAll('bare')]);
          process.exit(0);
        }
      } catch (err) {
        fail((err as Error).message);
      }
    })();
  });
  send({ op: 'ready' });
}

if (isMain(import.meta.url)) {
  runClient().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
