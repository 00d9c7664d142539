import {
  createSourceEventStream,
  execute,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';

/**
 * Live subscriptions send the same event to many subscribers, most of them with the same query.
 * Executing that query once per subscriber is what made fan-out slow (the profile in
 * BENCHMARKS.md): these helpers parse and validate each distinct query once, and execute each event
 * once per distinct (query, operation, variables, share key), reusing the result for every
 * subscriber that asked the same thing.
 */

/** MAX_CACHED_DOCUMENTS bounds the parsed-query cache; the least recently used query goes first. */
export const MAX_CACHED_DOCUMENTS = 500;

export type ParsedQuery = { document: DocumentNode } | { errors: readonly GraphQLError[] };

/** createDocumentCache parses and validates a query once and hands every later caller the same document. */
export function createDocumentCache(schema: GraphQLSchema, max = MAX_CACHED_DOCUMENTS) {
  const cache = new Map<string, ParsedQuery>();
  return {
    get(query: string): ParsedQuery {
      const hit = cache.get(query);
      if (hit) {
        // Map keeps insertion order: re-inserting marks it most recently used.
        cache.delete(query);
        cache.set(query, hit);
        return hit;
      }
      let parsed: ParsedQuery;
      try {
        const document = parse(query);
        const errors = validate(schema, document);
        parsed = errors.length > 0 ? { errors: errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) } : { document };
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        parsed = { errors: [withCode(err, 'GRAPHQL_PARSE_FAILED')] };
      }
      cache.set(query, parsed);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return parsed;
    },
    get size() {
      return cache.size;
    },
  };
}

/** withCode gives a parse or validation error the code the HTTP path reports for it. */
function withCode(err: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(err.message, {
    nodes: err.nodes,
    source: err.source,
    positions: err.positions,
    originalError: err.originalError,
    extensions: { ...err.extensions, code },
  });
}

type Executed = ExecutionResult | Promise<ExecutionResult>;

/**
 * createSharedSubscribe is a drop-in for graphql's `subscribe`: it resolves the source stream per
 * subscriber (so every subscriber's own checks run), then executes each event at most once per
 * distinct request. shareKey names what else the result may depend on (for certfleet: the
 * caller's roles); requests that differ in it never share a result. Events that are not objects
 * cannot be remembered and are executed per subscriber.
 */
export function createSharedSubscribe(shareKey: (contextValue: unknown) => string) {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 1;
  const results = new WeakMap<object, Map<string, Executed>>();

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;

    let docId = documentIds.get(args.document);
    if (docId === undefined) {
      docId = nextDocumentId++;
      documentIds.set(args.document, docId);
    }
    const key = `${docId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? null)}\u0000${shareKey(args.contextValue)}`;

    const run = (payload: unknown): Executed => execute({ ...args, rootValue: payload });
    return mapIterator(source[Symbol.asyncIterator](), (payload) => {
      if (payload === null || typeof payload !== 'object') return run(payload);
      let byKey = results.get(payload);
      if (!byKey) {
        byKey = new Map();
        results.set(payload, byKey);
      }
      let result = byKey.get(key);
      if (result === undefined) {
        result = run(payload);
        byKey.set(key, result);
      }
      return result;
    });
  };
}

function isPromise<V>(value: V | Promise<V>): value is Promise<V> {
  return typeof (value as Promise<V> | null)?.then === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

/**
 * mapIterator maps an async iterator. It is written by hand rather than as an async generator:
 * a generator waiting on the source cannot be returned until the next event arrives, and
 * graphql-ws must be able to end a quiet subscription at once.
 */
function mapIterator<T, R>(source: AsyncIterator<T>, fn: (value: T) => R | Promise<R>): AsyncIterableIterator<R> {
  const close = async () => {
    await source.return?.();
  };
  const fail = async (err: unknown): Promise<never> => {
    await close().catch(() => undefined);
    throw err;
  };
  // A result that is already there is passed on without another promise step: with thousands of
  // subscribers on one event, every step is taken thousands of times.
  const map = (r: IteratorResult<T>): IteratorResult<R> | Promise<IteratorResult<R>> => {
    if (r.done) return { value: undefined, done: true };
    let mapped: R | Promise<R>;
    try {
      mapped = fn(r.value);
    } catch (err) {
      return fail(err);
    }
    return isPromise(mapped) ? mapped.then((value) => ({ value, done: false }), fail) : { value: mapped, done: false };
  };
  return {
    next: () => source.next().then(map),
    async return() {
      await close();
      return { value: undefined, done: true };
    },
    async throw(err?: unknown) {
      await close();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
