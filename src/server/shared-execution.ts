import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { SubscriptionChannel } from './socket-channel.js';

/**
 * Live subscriptions send the same event to many subscribers, most of them with the same query.
 * Executing that query once per subscriber is what made fan-out slow (the profile in
 * BENCHMARKS.md): each distinct query is parsed and validated once (document-cache.ts), and these
 * helpers execute each event once per distinct (query, operation, variables, share key), reusing
 * the result for every subscriber that asked the same thing, written straight to each socket
 * (socket-channel.ts).
 */

type Executed = ExecutionResult | Promise<ExecutionResult>;

export interface SharedSubscribeOptions {
  /** shareKey names what else a result may depend on (for certfleet: the caller's roles). */
  shareKey(contextValue: unknown): string;
  /** channel, when it gives one, makes the subscription write to its socket itself. */
  channel?(contextValue: unknown): SubscriptionChannel | undefined;
  /** formatResult shapes a result into the payload sent (errors masked and coded); the default sends it as is. */
  formatResult?(result: ExecutionResult): unknown;
  /** active hears of each subscription that starts (+1) and ends (-1), once each. */
  active?(delta: 1 | -1): void;
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
    options.active?.(1);
    const g = group;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      options.active?.(-1);
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
