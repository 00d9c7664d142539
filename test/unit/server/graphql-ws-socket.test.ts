import type { AddressInfo } from 'node:net';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { useLeanServer } from '../../../src/server/graphql-ws-socket.js';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }),
});

describe('useLeanServer', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  async function serve(keepAliveMs: number) {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((ok) => wss.once('listening', ok));
    const server = useLeanServer({ schema }, wss, keepAliveMs);
    stop = () => server.dispose();
    return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, wss };
  }

  function open(url: string, autoPong: boolean): Promise<{ ws: WebSocket; messages: unknown[]; closed: Promise<number> }> {
    const ws = new WebSocket(url, 'graphql-transport-ws', { autoPong });
    const messages: unknown[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    const closed = new Promise<number>((ok) => ws.once('close', (code) => ok(code)));
    return new Promise((ok, fail) => {
      ws.once('open', () => ok({ ws, messages, closed }));
      ws.once('error', fail);
    });
  }

  const until = async (pred: () => boolean, ms = 3000) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('speaks graphql-transport-ws: ack, then a query result and complete', async () => {
    const { url } = await serve(0);
    const c = await open(url, true);
    c.ws.send(JSON.stringify({ type: 'connection_init' }));
    await until(() => c.messages.length === 1);
    c.ws.send(JSON.stringify({ id: 'q1', type: 'subscribe', payload: { query: '{ hello }' } }));
    await until(() => c.messages.length === 3);
    expect(c.messages).toEqual([
      { type: 'connection_ack' },
      { id: 'q1', type: 'next', payload: { data: { hello: 'world' } } },
      { id: 'q1', type: 'complete' },
    ]);
    c.ws.close();
  });

  it('ends a socket that does not answer its ping within a keep-alive period, and keeps one that does', async () => {
    const { url, wss } = await serve(100);
    const silent = await open(url, false);
    const answering = await open(url, true);
    let pings = 0;
    answering.ws.on('ping', () => pings++);
    // The first sweep pings both; the second ends the one that did not answer.
    expect(await silent.closed).toBe(1006);
    await until(() => pings >= 3);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    expect(wss.clients.size).toBe(1);
    answering.ws.close();
  });
});
