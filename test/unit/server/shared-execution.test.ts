import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  GraphQLError,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  type ExecutionResult,
} from 'graphql';
import { createDocumentCache, documentWeight } from '../../../src/server/document-cache.js';
import { createSharedSubscribe } from '../../../src/server/shared-execution.js';
import { socketChannel } from '../../../src/server/socket-channel.js';

/** A source that many subscribers share, as the live hub does: offer() reaches every open iterator. */
function broadcaster() {
  const open = new Set<{ push(v: unknown): void; end(): void }>();
  return {
    offer(v: unknown) {
      for (const o of open) o.push(v);
    },
    /** offerEach gives every open iterator its own event. */
    offerEach(make: () => unknown) {
      for (const o of open) o.push(make());
    },
    get openCount() {
      return open.size;
    },
    iterator(): AsyncIterableIterator<unknown> {
      const queue: unknown[] = [];
      let waiting: ((r: IteratorResult<unknown>) => void) | undefined;
      const entry = {
        push(v: unknown) {
          if (waiting) {
            const w = waiting;
            waiting = undefined;
            w({ value: v, done: false });
          } else queue.push(v);
        },
        end() {
          open.delete(entry);
          waiting?.({ value: undefined, done: true });
          waiting = undefined;
        },
      };
      open.add(entry);
      return {
        next: () =>
          queue.length > 0
            ? Promise.resolve({ value: queue.shift(), done: false })
            : new Promise((r) => (waiting = r)),
        return: async () => {
          entry.end();
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
}

function setup() {
  const source = broadcaster();
  const calls = { resolve: 0 };
  const Counts = new GraphQLObjectType({
    name: 'Counts',
    fields: {
      total: {
        type: GraphQLInt,
        resolve: (root: { total: number }) => {
          calls.resolve++;
          return root.total;
        },
      },
      scaled: {
        type: GraphQLInt,
        args: { by: { type: GraphQLInt } },
        resolve: (root: { total: number }, { by }: { by: number }) => root.total * by,
      },
      seenBy: { type: GraphQLString, resolve: (_r, _a, ctx: { role: string }) => ctx.role },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt, resolve: () => 1 } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        counts: {
          type: Counts,
          subscribe: (_r, _a, ctx: { role: string }) => {
            if (ctx.role === 'nobody') throw new Error('not allowed');
            return source.iterator();
          },
          resolve: (payload: unknown) => payload,
        },
      },
    }),
  });
  const documents = createDocumentCache(schema);
  const subscribe = createSharedSubscribe({ shareKey: (ctx) => (ctx as { role: string }).role });
  const open = async (query: string, role = 'viewer', variableValues?: Record<string, unknown>) => {
    const parsed = documents.get(query);
    if ('errors' in parsed) throw new Error(parsed.errors[0]!.message);
    const r = await subscribe({ schema, document: parsed.document, contextValue: { role }, variableValues });
    if (!(Symbol.asyncIterator in r)) throw new Error(`not a stream: ${JSON.stringify(r)}`);
    return r as AsyncIterableIterator<ExecutionResult>;
  };
  return { source, calls, documents, open, schema, subscribe };
}

describe('createDocumentCache', () => {
  it('parses and validates a query once and hands back the same document', () => {
    const { documents } = setup();
    const a = documents.get('subscription { counts { total } }');
    const b = documents.get('subscription { counts { total } }');
    expect('document' in a).toBe(true);
    expect(b).toBe(a);
  });

  it('returns GraphQL errors for a query that does not parse or does not validate', () => {
    const { documents } = setup();
    const bad = documents.get('subscription { counts { total }');
    expect('errors' in bad && bad.errors[0]!.message).toMatch(/Syntax Error/);
    const invalid = documents.get('subscription { counts { nope } }');
    expect('errors' in invalid && invalid.errors[0]!.message).toMatch(/Cannot query field "nope"/);
    // The same codes the HTTP path reports.
    expect('errors' in bad && bad.errors[0]!.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect('errors' in invalid && invalid.errors[0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('keeps at most its estimated size in memory, dropping the least recently used query', () => {
    const { schema } = setup();
    const q = (n: number) => `subscription Q${n} { counts { total } }`;
    const weight = documentWeight(q(1), parse(q(1)));
    // Room for three such queries, not four.
    const documents = createDocumentCache(schema, { maxBytes: weight * 3 + weight / 2 });
    const first = documents.get(q(1));
    documents.get(q(2));
    documents.get(q(3));
    expect(documents.get(q(1))).toBe(first); // used again: now the most recent
    documents.get(q(4)); // evicts Q2
    expect(documents.size).toBe(3);
    expect(documents.bytes).toBeLessThanOrEqual(weight * 3 + weight / 2);
    expect(documents.get(q(1))).toBe(first);
    const q2again = documents.get(q(2));
    expect('document' in q2again).toBe(true);
    expect(documents.size).toBe(3);
  });

  it('weighs a document by its tokens, not its text alone: 1,000 short tokens weigh far more than their text', () => {
    const query = `subscription { counts { ${'total '.repeat(1000)} } }`;
    expect(documentWeight(query, parse(query))).toBeGreaterThan(query.length * 50);
  });

  it('parses and validates a document larger than maxEntryBytes for its caller but does not keep it', () => {
    const { schema } = setup();
    const small = 'subscription { counts { total } }';
    const large = `subscription { counts { ${Array.from({ length: 200 }, (_, i) => `t${i}: total`).join(' ')} } }`;
    const documents = createDocumentCache(schema, { maxEntryBytes: documentWeight(small, parse(small)) * 2 });
    const a = documents.get(large);
    expect('document' in a).toBe(true);
    expect(documents.get(large) === a).toBe(false); // parsed again: it was not kept
    expect(documents.size).toBe(0);
    expect(documents.get(small)).toBe(documents.get(small));
    expect(documents.size).toBe(1);
  });

  it('adds no more than a caller\'s quota of new documents; beyond it, that caller\'s documents are parsed but not kept', () => {
    const { schema } = setup();
    const documents = createDocumentCache(schema);
    const quota = { remaining: 2 };
    const q = (n: number) => `subscription Q${n} { counts { total } }`;
    for (let n = 1; n <= 5; n++) expect('document' in documents.get(q(n), { quota })).toBe(true);
    expect(documents.size).toBe(2);
    expect(quota.remaining).toBe(0);
    // Hits cost no quota, and another caller still adds its own.
    expect(documents.get(q(1), { quota })).toBe(documents.get(q(1)));
    documents.get(q(6), { quota: { remaining: 1 } });
    expect(documents.size).toBe(3);
  });

  it('runs a request\'s check before validation, and again on every hit; a refused document is not kept', () => {
    const { schema } = setup();
    const documents = createDocumentCache(schema);
    const refusal = new GraphQLError('refused', { extensions: { code: 'BAD_USER_INPUT' } });
    let checked = 0;
    const refuse = { check: () => (checked++, refusal) };
    expect(documents.get('subscription { counts { total } }', refuse)).toEqual({ errors: [refusal] });
    expect(documents.size).toBe(0);
    // Refused before validation: an invalid query gets the refusal, not its validation error.
    expect(documents.get('subscription { counts { nope } }', refuse)).toEqual({ errors: [refusal] });
    const kept = documents.get('subscription { counts { total } }');
    expect(documents.get('subscription { counts { total } }', refuse)).toEqual({ errors: [refusal] });
    expect(documents.get('subscription { counts { total } }')).toBe(kept);
    expect(checked).toBe(3);
  });

  it('passes on a parse function\'s refusal with its own code', () => {
    const { schema } = setup();
    const refusal = new GraphQLError('too many tokens', { extensions: { code: 'BAD_USER_INPUT', reason: 'TOO_MANY_TOKENS' } });
    const documents = createDocumentCache(schema, {
      parse: () => {
        throw refusal;
      },
    });
    expect(documents.get('subscription { counts { total } }')).toEqual({ errors: [refusal] });
    expect(documents.size).toBe(0);
  });
});

describe('createSharedSubscribe', () => {
  it('executes each event once for every subscriber with the same request, and each gets the result', async () => {
    const { source, calls, open } = setup();
    const subs = await Promise.all(Array.from({ length: 50 }, () => open('subscription { counts { total } }')));
    const nexts = subs.map((s) => s.next());
    source.offer({ total: 7 });
    const results = await Promise.all(nexts);
    expect(calls.resolve).toBe(1);
    for (const r of results) expect(r.value).toEqual({ data: { counts: { total: 7 } } });
    expect(new Set(results.map((r) => r.value)).size).toBe(1);

    const again = subs.map((s) => s.next());
    source.offer({ total: 8 });
    for (const r of await Promise.all(again)) expect(r.value).toEqual({ data: { counts: { total: 8 } } });
    expect(calls.resolve).toBe(2);
  });

  it('never shares between different variables or share keys', async () => {
    const { source, open } = setup();
    const q = 'subscription ($by: Int) { counts { scaled(by: $by) seenBy } }';
    const twice = await open(q, 'viewer', { by: 2 });
    const thrice = await open(q, 'viewer', { by: 3 });
    const admin = await open(q, 'admin', { by: 2 });
    const pending = [twice.next(), thrice.next(), admin.next()];
    source.offer({ total: 5 });
    const [a, b, c] = await Promise.all(pending);
    expect(a!.value).toEqual({ data: { counts: { scaled: 10, seenBy: 'viewer' } } });
    expect(b!.value).toEqual({ data: { counts: { scaled: 15, seenBy: 'viewer' } } });
    expect(c!.value).toEqual({ data: { counts: { scaled: 10, seenBy: 'admin' } } });
  });

  it("runs every subscriber's own subscribe check", async () => {
    const { documents, schema, subscribe } = setup();
    const parsed = documents.get('subscription { counts { total } }');
    if (!('document' in parsed)) throw new Error('expected a document');
    const r = await subscribe({ schema, document: parsed.document, contextValue: { role: 'nobody' } });
    expect(Symbol.asyncIterator in r).toBe(false);
    expect((r as ExecutionResult).errors?.[0]?.message).toBe('not allowed');
  });

  it('ends a quiet subscription at once, releasing its source', async () => {
    const { source, open } = setup();
    const sub = await open('subscription { counts { total } }');
    const waiting = sub.next();
    expect(source.openCount).toBe(1);
    await sub.return!();
    expect(source.openCount).toBe(0);
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
  });
});

/** A stand-in for a ws WebSocket: records what is sent; `stuck` makes it hold writes as a slow client's socket does. */
function fakeSocket() {
  const sent: string[] = [];
  const held: ((err?: Error) => void)[] = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 0,
    stuck: false,
    sent,
    send(data: string, cb: (err?: Error) => void) {
      sent.push(data);
      if (socket.stuck) {
        socket.bufferedAmount += data.length;
        held.push(cb);
      } else queueMicrotask(() => cb());
    },
    /** drain lets the operating system take everything held. */
    drain() {
      socket.stuck = false;
      socket.bufferedAmount = 0;
      for (const cb of held.splice(0)) cb();
    },
    fail(err: Error) {
      socket.readyState = 3;
      for (const cb of held.splice(0)) cb(err);
    },
  };
  return socket;
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('createSharedSubscribe with a socket channel', () => {
  function channelSetup(format?: (r: ExecutionResult, contextValue?: unknown) => unknown) {
    const base = setup();
    const sockets = new Map<object, ReturnType<typeof fakeSocket>>();
    let formatted = 0;
    const subscribe = createSharedSubscribe({
      shareKey: (ctx) => (ctx as { role: string }).role,
      channel: (ctx) => {
        const s = sockets.get(ctx as object);
        return s && socketChannel(s, (ctx as { id: string }).id);
      },
      formatResult: (r, contextValue) => {
        formatted++;
        return format ? format(r, contextValue) : r;
      },
    });
    const open = async (query: string, id: string, role = 'viewer') => {
      const parsed = base.documents.get(query);
      if ('errors' in parsed) throw new Error(parsed.errors[0]!.message);
      const contextValue = { role, id };
      const socket = fakeSocket();
      sockets.set(contextValue, socket);
      const it = (await subscribe({ schema: base.schema, document: parsed.document, contextValue })) as AsyncIterableIterator<ExecutionResult>;
      // graphql-ws starts reading once the subscription is registered.
      const ending = it.next();
      return { it, socket, ending };
    };
    return { ...base, open, formattedCount: () => formatted };
  }

  it('writes each event as a graphql-ws next message with its own id, serialized once per event and request', async () => {
    const { source, calls, open, formattedCount } = channelSetup();
    const subs = await Promise.all(Array.from({ length: 20 }, (_, i) => open('subscription { counts { total } }', `sub-${i}`)));
    source.offer({ total: 3 });
    await tick();
    source.offer({ total: 4 });
    await tick();
    expect(calls.resolve).toBe(2);
    expect(formattedCount()).toBe(2);
    subs.forEach(({ socket }, i) => {
      expect(socket.sent.map((m) => JSON.parse(m))).toEqual([
        { id: `sub-${i}`, type: 'next', payload: { data: { counts: { total: 3 } } } },
        { id: `sub-${i}`, type: 'next', payload: { data: { counts: { total: 4 } } } },
      ]);
    });
  });

  it('escapes the id the client chose', async () => {
    const { source, open } = channelSetup();
    const { socket } = await open('subscription { counts { total } }', 'a"b\\c');
    source.offer({ total: 1 });
    await tick();
    expect(JSON.parse(socket.sent[0]!).id).toBe('a"b\\c');
  });

  it('sends the formatted result (errors masked by the caller), not the raw one', async () => {
    const { source, open } = channelSetup((r) => ({ ...r, extensions: { shaped: true } }));
    const { socket } = await open('subscription { counts { total } }', '1');
    source.offer({ total: 9 });
    await tick();
    expect(JSON.parse(socket.sent[0]!).payload).toEqual({ data: { counts: { total: 9 } }, extensions: { shaped: true } });
  });

  it('formats a result with errors once per subscriber, with its own context (its request id), and a clean one once for all', async () => {
    const { source, open, formattedCount } = channelSetup((r, ctx) => ({ ...r, extensions: { for: (ctx as { id?: string } | undefined)?.id ?? 'all' } }));
    const subs = await Promise.all(['a', 'b', 'c'].map((id) => open('subscription { counts { total } }', id)));
    source.offer({ total: 1 });
    await tick();
    expect(formattedCount()).toBe(1);
    // Not an Int: the field fails, and so the result has errors.
    source.offer({ total: 'many' });
    await tick();
    expect(formattedCount()).toBe(4);
    for (const { socket } of subs) {
      const [clean, failed] = socket.sent.map((m) => JSON.parse(m) as { id: string; payload: { errors?: unknown[]; extensions: { for: string } } });
      expect(clean!.payload.extensions.for).toBe('all');
      expect(failed!.payload.errors).toHaveLength(1);
      expect(failed!.payload.extensions.for).toBe(failed!.id);
    }
  });

  it('takes no further event while its socket has not flushed, so a slow client only ever has one message queued here', async () => {
    const { source, open } = channelSetup();
    const fast = await open('subscription { counts { total } }', 'fast');
    const slow = await open('subscription { counts { total } }', 'slow');
    slow.socket.stuck = true;
    source.offer({ total: 1 });
    await tick();
    for (let n = 2; n <= 5; n++) {
      source.offer({ total: n });
      await tick();
    }
    expect(fast.socket.sent).toHaveLength(5);
    // The slow socket got the first message and nothing since: the rest wait in the source (the
    // broadcaster here queues; the live hub keeps only the newest summary, or cuts off a stream).
    expect(slow.socket.sent).toHaveLength(1);
    slow.socket.drain();
    await tick();
    expect(slow.socket.sent.map((m) => JSON.parse(m).payload.data.counts.total)).toEqual([1, 2, 3, 4, 5]);
  });

  it('ends the subscription with the write failure when its socket goes away', async () => {
    const { source, open } = channelSetup();
    const { socket, ending } = await open('subscription { counts { total } }', '1');
    socket.stuck = true;
    source.offer({ total: 1 });
    await tick();
    socket.fail(new Error('socket gone'));
    await expect(ending).rejects.toThrow('socket gone');
    expect(source.openCount).toBe(0);
  });

  it('passes a failing source on as a failed subscription (graphql-ws then sends an error)', async () => {
    const { schema } = setup();
    const failing: AsyncIterableIterator<unknown> = {
      next: () => Promise.reject(new Error('fell behind')),
      return: async () => ({ value: undefined, done: true }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const failingSchema = new GraphQLSchema({
      query: schema.getQueryType(),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: { counts: { type: GraphQLInt, subscribe: () => failing, resolve: () => 1 } },
      }),
    });
    const doc = createDocumentCache(failingSchema).get('subscription { counts }');
    if (!('document' in doc)) throw new Error('expected a document');
    const socket = fakeSocket();
    const ctx = {};
    const subscribe = createSharedSubscribe({ shareKey: () => '', channel: (c) => (c === ctx ? socketChannel(socket, 'x') : undefined) });
    const it = (await subscribe({ schema: failingSchema, document: doc.document, contextValue: ctx })) as AsyncIterableIterator<ExecutionResult>;
    await expect(it.next()).rejects.toThrow('fell behind');
    expect(socket.sent).toHaveLength(0);
  });

  it('ends at once when graphql-ws returns it, writing nothing more and releasing its source', async () => {
    const { source, open } = channelSetup();
    const { it, socket, ending } = await open('subscription { counts { total } }', '1');
    source.offer({ total: 1 });
    await tick();
    await it.return!();
    await expect(ending).resolves.toEqual({ value: undefined, done: true });
    expect(source.openCount).toBe(0);
    source.offer({ total: 2 });
    await tick();
    expect(socket.sent).toHaveLength(1);
  });

  it('writes nothing before graphql-ws has registered the subscription (its first next call)', async () => {
    const { source, documents, schema } = setup();
    const socket = fakeSocket();
    const ctx = {};
    const subscribe = createSharedSubscribe({ shareKey: () => '', channel: () => socketChannel(socket, 'early') });
    const parsed = documents.get('subscription { counts { total } }');
    if (!('document' in parsed)) throw new Error('expected a document');
    const it = (await subscribe({ schema, document: parsed.document, contextValue: ctx })) as AsyncIterableIterator<ExecutionResult>;
    source.offer({ total: 1 });
    await tick();
    expect(socket.sent).toHaveLength(0);
    void it.next();
    await tick();
    expect(socket.sent).toHaveLength(1);
    await it.return!();
  });
});

describe('an idle subscription with a socket channel', () => {
  it('does not keep its last event alive (thousands of idle dashboards would each hold one)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { source, documents, schema } = setup();
    const parsed = documents.get('subscription { counts { total } }');
    if (!('document' in parsed)) throw new Error('expected a document');
    const socket = fakeSocket();
    const subscribe = createSharedSubscribe({ shareKey: () => '', channel: () => socketChannel(socket, '1') });
    const subs = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const it = (await subscribe({ schema, document: parsed.document, contextValue: {} })) as AsyncIterableIterator<ExecutionResult>;
        void it.next();
        return it;
      }),
    );
    // Each subscriber gets its own event (as each new dashboard's own first read), then they idle.
    const refs: WeakRef<object>[] = [];
    source.offerEach(() => {
      const event = { total: refs.length };
      refs.push(new WeakRef(event));
      return event;
    });
    await tick();
    await tick(10);
    gc();
    await tick(10);
    gc();
    expect(refs).toHaveLength(3);
    expect(socket.sent).toHaveLength(3);
    // The last event is remembered once for the whole request, so that later subscribers share its result.
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(1);
    for (const s of subs) await s.return!();
  });
});
