import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { DIRECT, isDirectSource, type DirectListener } from '../events/direct-source.js';
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
  /**
   * formatResult shapes a result into the payload sent (errors masked and coded); the default
   * sends it as is. A result without errors is formatted once for all its subscribers (with no
   * context value); one with errors once per subscriber, with its own context value (its errors
   * carry the subscriber's request id).
   */
  formatResult?(result: ExecutionResult, contextValue?: unknown): unknown;
  /** active hears of each subscription that starts (+1) and ends (-1), once each. */
  active?(delta: 1 | -1): void;
}

/**
 * One event's result for one distinct request, and its serialized payload once a channel asked
 * for it: null when the result has errors, which each subscriber formats for itself.
 */
interface SharedResult {
  result: Executed;
  json?: string | null | Promise<string | null>;
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
  const sharing: Sharing = {
    results: new WeakMap(),
    latest: new Map(),
    format: options.formatResult ?? ((r: ExecutionResult) => r),
    active: options.active,
  };

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;

    let docId = documentIds.get(args.document);
    if (docId === undefined) {
      docId = nextDocumentId++;
      documentIds.set(args.document, docId);
    }
    const key = `${docId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? null)}\u0000${options.shareKey(args.contextValue)}`;
    // Subscribers of one request share its group (and with it the one copy of its key).
    let group = sharing.latest.get(key);
    if (!group) {
      group = { key, users: 0 };
      sharing.latest.set(key, group);
    }
    group.users++;
    options.active?.(1);
    const subscriber = new SharedSubscriber(sharing, args, group);

    const iterator = source[Symbol.asyncIterator]() as AsyncIterator<unknown>;
    const channel = options.channel?.(args.contextValue);
    if (channel) return new ChannelSubscription(iterator, channel, subscriber);

    return mapIterator(
      iterator,
      (payload) => (payload === null || typeof payload !== 'object' ? subscriber.run(payload) : subscriber.shared(payload).result),
      () => subscriber.release(),
    );
  };
}

/** What every subscriber of one createSharedSubscribe shares: the results by event and the groups by request. */
interface Sharing {
  results: WeakMap<object, Map<string, SharedResult>>;
  // The latest event of each distinct request, so that the subscribers after the first find its
  // result without a lookup by event. Dropped with the last subscriber of the request.
  latest: Map<string, Group>;
  format(result: ExecutionResult, contextValue?: unknown): unknown;
  active?(delta: 1 | -1): void;
}

/** Group is one distinct request: its key, how many subscribers it has, and its latest event's result. */
interface Group {
  readonly key: string;
  users: number;
  event?: object;
  shared?: SharedResult;
}

/**
 * SharedSubscriber is one subscription's side of the sharing. A class rather than closures: tens
 * of thousands of idle dashboards each hold one, and methods on the prototype cost them nothing.
 */
class SharedSubscriber {
  private released = false;

  constructor(
    private readonly sharing: Sharing,
    private readonly args: ExecutionArgs,
    private readonly group: Group,
  ) {}

  release() {
    if (this.released) return;
    this.released = true;
    const { sharing, group } = this;
    sharing.active?.(-1);
    if (--group.users === 0 && sharing.latest.get(group.key) === group) sharing.latest.delete(group.key);
  }

  run(payload: unknown): Executed {
    return execute({ ...this.args, rootValue: payload });
  }

  shared(event: object): SharedResult {
    const g = this.group;
    if (g.event === event) return g.shared!;
    let byKey = this.sharing.results.get(event);
    if (!byKey) {
      byKey = new Map();
      this.sharing.results.set(event, byKey);
    }
    let s = byKey.get(g.key);
    if (s === undefined) {
      s = { result: this.run(event) };
      byKey.set(g.key, s);
    }
    g.event = event;
    g.shared = s;
    return s;
  }

  /** payloadOf is the serialized payload of an event for this subscriber: the shared one unless it has errors. */
  payloadOf(event: unknown): string | Promise<string> {
    if (event === null || typeof event !== 'object') return this.own(this.run(event));
    const s = this.shared(event);
    if (s.json === undefined) {
      const r = s.result;
      const format = this.sharing.format;
      const sharedJson = (done: ExecutionResult): string | null => (done.errors ? null : JSON.stringify(format(done)));
      const json = isPromise(r) ? r.then(sharedJson) : sharedJson(r);
      s.json = json;
      if (isPromise(json)) void json.then((done) => (s.json = done), () => undefined);
    }
    const json = s.json;
    if (typeof json === 'string') return json;
    if (json === null) return this.own(s.result);
    return json.then((done) => done ?? this.own(s.result));
  }

  /** own serializes a result for this subscriber alone (one with errors carries its own request id). */
  private own(r: Executed): string | Promise<string> {
    const ownJson = (done: ExecutionResult) => JSON.stringify(this.sharing.format(done, this.args.contextValue));
    return isPromise(r) ? r.then(ownJson) : ownJson(r);
  }
}

/**
 * ChannelSubscription writes the source's events to the channel and is the iterator graphql-ws
 * holds: its first next() starts taking events (graphql-ws calls it once the subscription is
 * registered, so no message can precede that), and it settles only when the stream ends (done),
 * fails (rejects, so graphql-ws sends an error), or is ended by return(). A direct source (the
 * live hub's summaries) hands it each event synchronously, so a push reaches every dashboard in one
 * pass with no promise per dashboard; any other source is pumped. A class rather than closures:
 * thousands of idle dashboards each hold one, and methods on the prototype cost them nothing.
 */
class ChannelSubscription implements AsyncIterableIterator<ExecutionResult>, DirectListener<unknown> {
  private ended = false;
  private started = false;
  /** Direct mode: a payload or a write is under way, so the source keeps what comes meanwhile. */
  private busy = false;
  // What graphql-ws waits on, made by its first next().
  private ending: Promise<IteratorResult<ExecutionResult>> | undefined;
  private resolveEnd: ((r: IteratorResult<ExecutionResult>) => void) | undefined;
  private rejectEnd: ((err: unknown) => void) | undefined;
  private failure: { err: unknown } | undefined;

  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly channel: SubscriptionChannel,
    private readonly subscriber: SharedSubscriber,
  ) {}

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.ending === undefined) {
      if (this.ended) {
        this.ending = this.failure ? Promise.reject(this.failure.err) : Promise.resolve({ value: undefined, done: true });
      } else {
        this.ending = new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
          this.resolveEnd = resolve;
          this.rejectEnd = reject;
        });
      }
    }
    if (!this.started && !this.ended) {
      this.started = true;
      // A direct source calls value() with each event, in the same pass for every subscriber;
      // any other is pumped, one awaited next() after another.
      if (isDirectSource(this.source)) this.source[DIRECT](this);
      else void this.pump();
    }
    return this.ending;
  }

  get ready(): boolean {
    return !this.busy && !this.ended;
  }

  /** value takes one event from a direct source: written at once when its payload and the socket allow. */
  value(event: unknown): void {
    if (this.ended) return;
    let payload: string | Promise<string>;
    try {
      payload = this.subscriber.payloadOf(event);
    } catch (err) {
      return this.fail(err);
    }
    if (typeof payload === 'string') return this.writeDirect(payload, false);
    this.busy = true;
    payload.then(
      (p) => this.writeDirect(p, true),
      (err: unknown) => this.fail(err),
    );
  }

  /** end hears that a direct source ended. */
  end(error?: unknown): void {
    if (error === undefined) this.finish();
    else this.fail(error);
  }

  private writeDirect(payload: string, resumed: boolean): void {
    if (this.ended) return;
    let wait: void | Promise<void>;
    try {
      wait = this.channel.writeNext(payload);
    } catch (err) {
      return this.fail(err);
    }
    if (wait) {
      // A slow client: the next event is taken once the socket has flushed (the source keeps the newest).
      this.busy = true;
      wait.then(
        () => this.resume(),
        (err: unknown) => this.fail(err),
      );
    } else if (resumed) this.resume();
  }

  private resume(): void {
    this.busy = false;
    if (!this.ended && isDirectSource(this.source)) this.source.resumeDirect();
  }

  private fail(err: unknown): void {
    if (this.ended) return;
    this.finish({ err });
    void Promise.resolve(this.source.return?.()).catch(() => undefined);
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
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

  private finish(failure?: { err: unknown }) {
    if (this.ended) return;
    this.ended = true;
    this.subscriber.release();
    this.failure = failure;
    if (failure) this.rejectEnd?.(failure.err);
    else this.resolveEnd?.({ value: undefined, done: true });
    this.resolveEnd = undefined;
    this.rejectEnd = undefined;
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
        payload = this.subscriber.payloadOf(r.value);
        r = undefined;
        if (typeof payload !== 'string') payload = await payload;
        if (this.ended) return;
        wait = this.channel.writeNext(payload);
        payload = undefined;
        if (wait) await wait;
        wait = undefined;
        if (this.ended) return;
      }
      this.finish();
    } catch (err) {
      if (this.ended) return;
      this.finish({ err });
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
