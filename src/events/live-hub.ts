import type { AuthStatus, ClientAccessDecision } from '../domain/statuses.js';
import { outsideLogContext, type Logger } from '../logger.js';
import { noMetrics, type MetricsSink } from '../metrics/sink.js';
import type { AuthStatusSummaryView, ClientCertificateView, DeviceView } from './views.js';
import type { AppEvent, EventBus } from './bus.js';
import { DIRECT, type DirectListener, type DirectSource } from './direct-source.js';

export interface DeviceStatusChange {
  device: DeviceView;
  previous: AuthStatus;
  current: AuthStatus;
  at: Date;
}

/** AccessDecision is one decision on a request or certificate, with the request as it stands when sent. */
export interface AccessDecision {
  request: ClientCertificateView;
  decision: ClientAccessDecision;
  decidedBy: string;
  decidedAt: Date;
  reason: string | null;
}

/** LiveSources are the reads the hub makes: once per push or per batch of events, never per subscriber. */
export interface LiveSources {
  readSummary(): Promise<AuthStatusSummaryView>;
  loadDevices(ids: number[]): Promise<Map<number, DeviceView>>;
  loadRequests(ids: number[]): Promise<Map<number, ClientCertificateView>>;
}

/** SubscriberTooSlowError ends a subscription whose client stopped reading events it may not lose. */
export class SubscriberTooSlowError extends Error {
  override name = 'SubscriberTooSlowError';
}

/** MAX_QUEUED_EVENTS is how far a subscriber may fall behind on a stream of events before it is cut off. */
export const MAX_QUEUED_EVENTS = 1000;

interface Sink<T> {
  offer(value: T): void;
}

/**
 * LatestOnly is an async iterator that keeps only the newest value: the summary is state, not a
 * log, so a client that reads slowly gets the latest state and memory stays bounded. It removes
 * itself from its set of sinks when it ends. A class rather than closures: every idle dashboard
 * holds one, and methods on the prototype cost them nothing. It is also a direct source: with a
 * listener attached, a value goes to it synchronously while it is ready, and the newest one waits
 * while it is not.
 */
class LatestOnly<T> implements AsyncIterableIterator<T>, Sink<T>, DirectSource<T> {
  private pending: { value: T } | undefined;
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private listener: DirectListener<T> | undefined;
  private done = false;
  /** Whether any value was offered yet. */
  offered = false;

  constructor(private readonly sinks: Set<LatestOnly<T>>) {
    sinks.add(this);
  }

  offer(value: T) {
    if (this.done) return;
    this.offered = true;
    const l = this.listener;
    if (l) {
      if (l.ready) {
        this.pending = undefined;
        l.value(value);
      } else this.pending = { value };
      return;
    }
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w({ value, done: false });
    } else {
      this.pending = { value };
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      return Promise.resolve({ value: p.value, done: false });
    }
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    return Promise.resolve(this.finish());
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.finish();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  [DIRECT](listener: DirectListener<T>): void {
    if (this.done) return listener.end();
    this.listener = listener;
    this.resumeDirect();
  }

  resumeDirect(): void {
    const l = this.listener;
    const p = this.pending;
    if (l && p && l.ready && !this.done) {
      this.pending = undefined;
      l.value(p.value);
    }
  }

  private finish(): IteratorResult<T> {
    if (!this.done) {
      this.done = true;
      this.pending = undefined;
      this.sinks.delete(this);
      this.waiting?.({ value: undefined, done: true });
      this.waiting = undefined;
      const l = this.listener;
      this.listener = undefined;
      l?.end();
    }
    return { value: undefined, done: true };
  }
}

/** bounded is an async iterator over a queue of at most max events; past that the subscription fails. */
function bounded<T>(max: number, onClose: () => void): AsyncIterableIterator<T> & Sink<T> {
  const queue: T[] = [];
  let waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  let done = false;
  let failure: Error | undefined;
  const finish = () => {
    if (done) return;
    done = true;
    onClose();
  };
  return {
    offer(value: T) {
      if (done) return;
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w.resolve({ value, done: false });
      } else if (queue.length >= max) {
        failure = new SubscriberTooSlowError(`the subscriber fell ${max} events behind: subscribe again`);
        queue.length = 0;
        finish();
      } else {
        queue.push(value);
      }
    },
    next() {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (failure) {
        const f = failure;
        failure = undefined;
        return Promise.reject(f);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return() {
      finish();
      waiting?.resolve({ value: undefined, done: true });
      waiting = undefined;
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err?: unknown) {
      finish();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}


/** FilteredSink is a subscriber that wants only the events of some kinds (all when only is unset). */
interface FilteredSink<T, K> {
  sink: Sink<T>;
  only?: Set<K>;
}

/** subscribeFiltered adds a bounded subscriber to sinks, wanting the kinds in only (all when empty). */
function subscribeFiltered<T, K>(sinks: Set<FilteredSink<T, K>>, only?: K[] | null): AsyncIterableIterator<T> {
  const entry: FilteredSink<T, K> = { sink: undefined as unknown as Sink<T>, only: only && only.length > 0 ? new Set(only) : undefined };
  const it = bounded<T>(MAX_QUEUED_EVENTS, () => sinks.delete(entry));
  entry.sink = it;
  sinks.add(entry);
  return it;
}

/**
 * createLiveHub turns committed events into subscription messages for this replica. Summary
 * pushes are coalesced (at most one every pushIntervalMs) and read once per push for all
 * subscribers; the read after the last event of a burst carries the final state.
 */
export function createLiveHub(deps: { bus: EventBus; sources: LiveSources; pushIntervalMs: number; log: Logger; metrics?: MetricsSink }) {
  const metrics = deps.metrics ?? noMetrics;
  const summarySinks = new Set<LatestOnly<AuthStatusSummaryView>>();
  const deviceSinks = new Set<FilteredSink<DeviceStatusChange, AuthStatus>>();
  const requestSinks = new Set<Sink<ClientCertificateView>>();
  const decisionSinks = new Set<FilteredSink<AccessDecision, ClientAccessDecision>>();

  let lastPushAt = 0;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let reading = false;
  let dirty = false;
  let closed = false;
  // When the oldest change not yet pushed reached the hub (after its commit; from another replica,
  // after its notification): the push that carries it measures its delay from there.
  let changedAt: number | undefined;

  function schedulePush() {
    dirty = true;
    changedAt ??= performance.now();
    if (timer || reading || closed) return;
    const wait = lastPushAt + deps.pushIntervalMs - Date.now();
    // Past the interval the push goes out on the next turn of the event loop, not a timer later.
    // A push serves every dashboard: it logs under no one subscriber's request id.
    timer = outsideLogContext(() => (wait > 0 ? setTimeout(push, wait) : setImmediate(push)));
  }

  async function push() {
    timer = undefined;
    dirty = false;
    const since = changedAt;
    changedAt = undefined;
    if (summarySinks.size === 0) return;
    reading = true;
    lastPushAt = Date.now();
    try {
      const summary = await deps.sources.readSummary();
      for (const s of summarySinks) s.offer(summary);
      if (since !== undefined) metrics.summaryPushed((performance.now() - since) / 1000);
    } catch (err) {
      // The changes are still to be pushed: the next try measures from the same moment.
      if (since !== undefined && (changedAt === undefined || since < changedAt)) changedAt = since;
      deps.log.error('could not read the summary for subscribers', { error: err });
      dirty = true;
    } finally {
      reading = false;
      if (dirty) schedulePush();
    }
  }

  // Events of one tick are loaded in one query each, then fanned out.
  let deviceBatch: { deviceId: number; previous: AuthStatus; current: AuthStatus; at: string }[] = [];
  let requestBatch: number[] = [];
  let decisionBatch: Extract<AppEvent, { type: 'clientAccessDecided' }>[] = [];
  let flushQueued = false;
  function queueFlush() {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      // One flush at a time: a later batch must not overtake an earlier one whose read is slower.
      flushing = flushing.then(flush);
    });
  }
  let flushing: Promise<void> = Promise.resolve();
  async function flush() {
    const devices = deviceBatch;
    const requests = requestBatch;
    const decisions = decisionBatch;
    deviceBatch = [];
    requestBatch = [];
    decisionBatch = [];
    try {
      if (devices.length > 0 && deviceSinks.size > 0) {
        const views = await deps.sources.loadDevices([...new Set(devices.map((d) => d.deviceId))]);
        for (const e of devices) {
          const device = views.get(e.deviceId);
          if (!device) continue;
          const change = { device, previous: e.previous, current: e.current, at: new Date(e.at) };
          for (const d of deviceSinks) if (!d.only || d.only.has(e.current)) d.sink.offer(change);
        }
      }
      const wanted = [...(requestSinks.size > 0 ? requests : []), ...(decisionSinks.size > 0 ? decisions.map((d) => d.requestId) : [])];
      if (wanted.length > 0) {
        // New requests and decisions of a batch share one read.
        const views = await deps.sources.loadRequests([...new Set(wanted)]);
        for (const id of requests) {
          const view = views.get(id);
          if (view) for (const s of requestSinks) s.offer(view);
        }
        for (const e of decisions) {
          const request = views.get(e.requestId);
          if (!request) continue;
          const decision = { request, decision: e.decision, decidedBy: e.by, decidedAt: new Date(e.at), reason: e.reason };
          for (const d of decisionSinks) if (!d.only || d.only.has(e.decision)) d.sink.offer(decision);
        }
      }
    } catch (err) {
      deps.log.error('could not load changes for subscribers', { error: err });
    }
  }

  const unsubscribe = deps.bus.subscribe((event) => {
    if (event.type === 'summaryChanged') schedulePush();
    else if (event.type === 'deviceAuthStatusChanged') {
      if (deviceSinks.size === 0) return;
      deviceBatch.push(event);
      queueFlush();
    } else if (event.type === 'clientAccessRequested') {
      if (requestSinks.size === 0) return;
      requestBatch.push(event.requestId);
      queueFlush();
    } else if (event.type === 'clientAccessDecided') {
      if (decisionSinks.size === 0) return;
      decisionBatch.push(event);
      queueFlush();
    }
  });

  return {
    /** summaries streams the summary: the current one at once, then coalesced updates. */
    summaries(): AsyncIterableIterator<AuthStatusSummaryView> {
      const it = new LatestOnly<AuthStatusSummaryView>(summarySinks);
      // A push that reaches this subscriber first is newer than its first read: that read is then dropped.
      deps.sources.readSummary().then(
        (s) => {
          if (!it.offered) it.offer(s);
        },
        (err) => deps.log.error('could not read the summary for a new subscriber', { error: err }),
      );
      return it;
    },

    /** deviceChanges streams every status change, or only those into the given statuses. */
    deviceChanges(statuses?: AuthStatus[] | null): AsyncIterableIterator<DeviceStatusChange> {
      return subscribeFiltered(deviceSinks, statuses);
    },

    /** accessRequests streams new PENDING client certificate requests. */
    accessRequests(): AsyncIterableIterator<ClientCertificateView> {
      const it = bounded<ClientCertificateView>(MAX_QUEUED_EVENTS, () => requestSinks.delete(it));
      requestSinks.add(it);
      return it;
    },

    /** accessDecisions streams approvals, rejections and revocations, or only the given kinds. */
    accessDecisions(decisions?: ClientAccessDecision[] | null): AsyncIterableIterator<AccessDecision> {
      return subscribeFiltered(decisionSinks, decisions);
    },

    /** subscriberCount says how many subscriptions this replica serves. */
    subscriberCount(): number {
      return summarySinks.size + deviceSinks.size + requestSinks.size + decisionSinks.size;
    },

    close() {
      closed = true;
      unsubscribe();
      if (timer) {
        clearTimeout(timer as NodeJS.Timeout);
        clearImmediate(timer as NodeJS.Immediate);
      }
    },
  };
}

export type LiveHub = ReturnType<typeof createLiveHub>;
