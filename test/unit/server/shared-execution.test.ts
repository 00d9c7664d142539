import { describe, expect, it } from 'vitest';
import {
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  type ExecutionResult,
} from 'graphql';
import { createDocumentCache, createSharedSubscribe } from '../../../src/server/shared-execution.js';

/** A source that many subscribers share, as the live hub does: offer() reaches every open iterator. */
function broadcaster() {
  const open = new Set<{ push(v: unknown): void; end(): void }>();
  return {
    offer(v: unknown) {
      for (const o of open) o.push(v);
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
  const documents = createDocumentCache(schema, 3);
  const subscribe = createSharedSubscribe((ctx) => (ctx as { role: string }).role);
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

  it('keeps at most its limit, dropping the least recently used query', () => {
    const { documents } = setup();
    const q = (n: number) => `subscription Q${n} { counts { total } }`;
    const first = documents.get(q(1));
    documents.get(q(2));
    documents.get(q(3));
    expect(documents.get(q(1))).toBe(first); // used again: now the most recent
    documents.get(q(4)); // evicts Q2
    expect(documents.size).toBe(3);
    expect(documents.get(q(1))).toBe(first);
    const q2again = documents.get(q(2));
    expect('document' in q2again).toBe(true);
    expect(documents.size).toBe(3);
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
