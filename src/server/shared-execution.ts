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
  type Token,
} from 'graphql';

/**
 * Live subscriptions send the same event to many subscribers, most of them with the same query.
 * Executing that query once per subscriber is what made fan-out slow (the profile in
 * BENCHMARKS.md): these helpers parse and validate each distinct query once, and execute each event
 * once per distinct (query, operation, variables, share key), reusing the result for every
 * subscriber that asked the same thing.
 */

export type ParsedQuery = { document: DocumentNode } | { errors: readonly GraphQLError[] };

/**
 * A parsed document takes far more memory than its text: measured with graphql 16, 270 to 450
 * bytes per token (its nodes, and the tokens its locations keep), so 1,000 tokens written in 3 KB
 * take about 450 KB. The cache weighs each document by this estimate, not by its text alone.
 */
export const BYTES_PER_TOKEN = 450;

export interface DocumentCacheOptions {
  /** Estimated memory of every cached document together; the least recently used go first. */
  maxBytes?: number;
  /** A document estimated larger than this is parsed and validated for its caller, never cached. */
  maxEntryBytes?: number;
  /** parse turns a query into a document or throws a GraphQLError (default: graphql's parse). */
  parse?: (query: string) => DocumentNode;
}

/** The defaults: room for about 700 typical subscription documents (some 25 tokens each). */
export const DOCUMENT_CACHE_DEFAULTS = { maxBytes: 8 * 1024 * 1024, maxEntryBytes: 128 * 1024 } as const;

/** CacheQuota is how many more documents one caller (a socket) may add to the cache. */
export interface CacheQuota {
  remaining: number;
}

/** What one get() asks besides the query: a check before validation, and whose quota an insertion uses. */
export interface DocumentRequest {
  /** check refuses a document before it is validated (and on every later hit): request limits. */
  check?(document: DocumentNode): GraphQLError | undefined;
  quota?: CacheQuota;
}

/** documentWeight estimates the memory a parsed document holds (see BYTES_PER_TOKEN). */
export function documentWeight(query: string, document: DocumentNode): number {
  let tokens = 0;
  for (let t: Token | null | undefined = document.loc?.startToken; t; t = t.next) tokens++;
  // The text is kept too (the document's source), at most two bytes a character.
  return query.length * 2 + tokens * BYTES_PER_TOKEN;
}

/**
 * createDocumentCache parses and validates a query once and hands every later caller the same
 * document. Its memory is bounded whoever calls it: by the estimated size of everything cached,
 * by a size above which a document is not cached at all, and by each caller's quota of new
 * entries (beyond it, the caller's documents are parsed for it and not kept).
 */
export function createDocumentCache(schema: GraphQLSchema, options: DocumentCacheOptions = {}) {
  const maxBytes = options.maxBytes ?? DOCUMENT_CACHE_DEFAULTS.maxBytes;
  const maxEntryBytes = Math.min(options.maxEntryBytes ?? DOCUMENT_CACHE_DEFAULTS.maxEntryBytes, maxBytes);
  const parseQuery = options.parse ?? ((query: string) => parse(query));
  const cache = new Map<string, { parsed: ParsedQuery; document: DocumentNode; weight: number }>();
  let bytes = 0;
  return {
    get(query: string, request: DocumentRequest = {}): ParsedQuery {
      const hit = cache.get(query);
      if (hit) {
        // Map keeps insertion order: re-inserting marks it most recently used.
        cache.delete(query);
        cache.set(query, hit);
        const refused = request.check?.(hit.document);
        return refused ? { errors: [refused] } : hit.parsed;
      }
      let document: DocumentNode;
      try {
        document = parseQuery(query);
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        // A refusal keeps its own code; a syntax error gets the one the HTTP path reports.
        return { errors: [typeof err.extensions.code === 'string' ? err : withCode(err, 'GRAPHQL_PARSE_FAILED')] };
      }
      const refused = request.check?.(document);
      if (refused) return { errors: [refused] };
      const errors = validate(schema, document);
      const parsed: ParsedQuery =
        errors.length > 0 ? { errors: errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) } : { document };
      const weight = documentWeight(query, document);
      if (weight > maxEntryBytes || (request.quota && request.quota.remaining <= 0)) return parsed;
      if (request.quota) request.quota.remaining--;
      cache.set(query, { parsed, document, weight });
      bytes += weight;
      for (const [key, entry] of cache) {
        if (bytes <= maxBytes) break;
        cache.delete(key);
        bytes -= entry.weight;
      }
      return parsed;
    },
    get size() {
      return cache.size;
    },
    /** bytes is the estimated memory of what is cached now. */
    get bytes() {
      return bytes;
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
 * A SubscriptionChannel lets a subscription write its `next` messages straight to its socket.
 * graphql-ws would otherwise build, check and serialize the same message once per subscriber
 * and wait on a promise for every write; here the payload is serialized once per event and
 * request, and each subscriber only adds its own message id around it.
 */
export interface SubscriptionChannel {
  /** The start of every `next` message of this subscription, up to its payload: `{"id":…,"type":"next","payload":`. */
  readonly nextPrefix: string;
  /**
   * write sends one whole message. It returns a promise when the socket could not take the
   * message at once (the client reads slowly): the next event is taken only once it settles, so
   * the source's own rules (newest summary only, a bounded queue of changes) apply to slow
   * clients. It throws, or the promise rejects, when the socket is gone.
   */
  write(message: string): void | Promise<void>;
}

/** The little of a `ws` WebSocket that socketChannel uses. */
export interface ChannelSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes handed to send() that the operating system has not taken yet. */
  readonly bufferedAmount: number;
  send(data: string, cb: (err?: Error) => void): void;
}

/**
 * socketChannel writes one subscription's messages to its WebSocket. A message the socket takes
 * at once needs no waiting; otherwise the subscription waits until the socket has flushed what it
 * holds, so a client that reads slowly never has more than one message queued for it here.
 */
export function socketChannel(socket: ChannelSocket, id: string): SubscriptionChannel {
  return new SocketChannel(socket, `{"id":${JSON.stringify(id)},"type":"next","payload":`);
}

class SocketChannel implements SubscriptionChannel {
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  // One callback for every write of the subscription, not a closure per message.
  private readonly written = (err?: Error) => {
    if (err) this.failure ??= err;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  };

  constructor(
    private readonly socket: ChannelSocket,
    readonly nextPrefix: string,
  ) {}

  write(message: string): void | Promise<void> {
    if (this.failure) throw this.failure;
    if (this.socket.readyState !== this.socket.OPEN) throw new Error('the WebSocket is closed');
    this.socket.send(message, this.written);
    return this.socket.bufferedAmount > 0 ? this.drained() : undefined;
  }

  private async drained() {
    while (!this.failure && this.socket.readyState === this.socket.OPEN && this.socket.bufferedAmount > 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure) throw this.failure;
  }
}

export interface SharedSubscribeOptions {
  /** shareKey names what else a result may depend on (for certfleet: the caller's roles). */
  shareKey(contextValue: unknown): string;
  /** channel, when it gives one, makes the subscription write to its socket itself. */
  channel?(contextValue: unknown): SubscriptionChannel | undefined;
  /** formatResult shapes a result into the payload sent (errors masked and coded); the default sends it as is. */
  formatResult?(result: ExecutionResult): unknown;
}

/** One event's result for one distinct request, and its serialized payload once a channel asked for it. */
interface SharedResult {
  result: Executed;
  json?: string | Promise<string>;
}

/**
 * createSharedSubscribe is a drop-in for graphql's `subscribe`: it resolves the source stream per
 * subscriber (so every subscriber's own checks run), then executes each event at most once per
 * distinct request. Requests that differ in their share key never share a result. Events that are
 * not objects cannot be remembered and are executed per subscriber.
 *
 * A subscriber whose context gives a channel gets an iterator that yields nothing: its messages
 * go straight to its socket (see SubscriptionChannel), and the iterator only tells graphql-ws when
 * the stream ends or fails, so graphql-ws still sends `complete` or `error` and can end it.
 */
export function createSharedSubscribe(options: SharedSubscribeOptions) {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 1;
  const results = new WeakMap<object, Map<string, SharedResult>>();
  // The latest event of each distinct request, so that the subscribers after the first find its
  // result without a lookup by event. Dropped with the last subscriber of the request.
  const latest = new Map<string, { users: number; event?: object; shared?: SharedResult }>();
  const format = options.formatResult ?? ((r: ExecutionResult) => r);

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;

    let docId = documentIds.get(args.document);
    if (docId === undefined) {
      docId = nextDocumentId++;
      documentIds.set(args.document, docId);
    }
    const key = `${docId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? null)}\u0000${options.shareKey(args.contextValue)}`;
    let group = latest.get(key);
    if (!group) {
      group = { users: 0 };
      latest.set(key, group);
    }
    group.users++;
    const g = group;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--g.users === 0 && latest.get(key) === g) latest.delete(key);
    };

    const run = (payload: unknown): Executed => execute({ ...args, rootValue: payload });
    const shared = (event: object): SharedResult => {
      if (g.event === event) return g.shared!;
      let byKey = results.get(event);
      if (!byKey) {
        byKey = new Map();
        results.set(event, byKey);
      }
      let s = byKey.get(key);
      if (s === undefined) {
        s = { result: run(event) };
        byKey.set(key, s);
      }
      g.event = event;
      g.shared = s;
      return s;
    };

    const iterator = source[Symbol.asyncIterator]() as AsyncIterator<unknown>;
    const channel = options.channel?.(args.contextValue);
    if (channel) {
      const payloadOf = (event: unknown): string | Promise<string> => {
        if (event === null || typeof event !== 'object') return serialize(run(event));
        const s = shared(event);
        if (s.json === undefined) {
          const json = serialize(s.result);
          s.json = json;
          if (typeof json !== 'string') void json.then((done) => (s.json = done), () => undefined);
        }
        return s.json;
      };
      const serialize = (r: Executed): string | Promise<string> =>
        isPromise(r) ? r.then((done) => JSON.stringify(format(done))) : JSON.stringify(format(r));
      return new ChannelSubscription(iterator, channel, payloadOf, release);
    }

    return mapIterator(
      iterator,
      (payload) => (payload === null || typeof payload !== 'object' ? run(payload) : shared(payload).result),
      release,
    );
  };
}

/**
 * ChannelSubscription pumps the source into the channel and is the iterator graphql-ws holds: its
 * first next() starts the pump (graphql-ws calls it once the subscription is registered, so no
 * message can precede that), and it settles only when the stream ends (done), fails (rejects, so
 * graphql-ws sends an error), or is ended by return(). A class rather than closures: thousands of
 * idle dashboards each hold one, and methods on the prototype cost them nothing.
 */
class ChannelSubscription implements AsyncIterableIterator<ExecutionResult> {
  private ended = false;
  private started = false;
  private resolveEnd!: (r: IteratorResult<ExecutionResult>) => void;
  private rejectEnd!: (err: unknown) => void;
  private readonly ending = new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
    this.resolveEnd = resolve;
    this.rejectEnd = reject;
  });

  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly channel: SubscriptionChannel,
    private readonly payloadOf: (event: unknown) => string | Promise<string>,
    private readonly release: () => void,
  ) {}

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (!this.started && !this.ended) {
      this.started = true;
      void this.pump();
    }
    return this.ending;
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.return();
    throw err;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  private end(failure?: { err: unknown }) {
    if (this.ended) return;
    this.ended = true;
    this.release();
    if (failure) this.rejectEnd(failure.err);
    else this.resolveEnd({ value: undefined, done: true });
  }

  private async pump() {
    // The event and its payload are dropped before each wait: this frame stays suspended between
    // events, and whatever it held would stay alive as long as the dashboard.
    let r: IteratorResult<unknown> | undefined;
    let payload: string | Promise<string> | undefined;
    let wait: void | Promise<void>;
    try {
      for (;;) {
        r = await this.source.next();
        if (this.ended) return;
        if (r.done) break;
        payload = this.payloadOf(r.value);
        r = undefined;
        if (typeof payload !== 'string') payload = await payload;
        if (this.ended) return;
        wait = this.channel.write(this.channel.nextPrefix + payload + '}');
        payload = undefined;
        if (wait) await wait;
        wait = undefined;
        if (this.ended) return;
      }
      this.end();
    } catch (err) {
      if (this.ended) return;
      this.end({ err });
      await Promise.resolve(this.source.return?.()).catch(() => undefined);
    }
  }
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
function mapIterator<T, R>(
  source: AsyncIterator<T>,
  fn: (value: T) => R | Promise<R>,
  release: () => void,
): AsyncIterableIterator<R> {
  const close = async () => {
    release();
    await source.return?.();
  };
  const fail = async (err: unknown): Promise<never> => {
    await close().catch(() => undefined);
    throw err;
  };
  // A result that is already there is passed on without another promise step: with thousands of
  // subscribers on one event, every step is taken thousands of times.
  const map = (r: IteratorResult<T>): IteratorResult<R> | Promise<IteratorResult<R>> => {
    if (r.done) {
      release();
      return { value: undefined, done: true };
    }
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
