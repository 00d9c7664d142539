// The sustained benchmark's open-loop driver, run in a load process (bench/gateway/client.ts): it
// starts requests on a fixed schedule whether or not earlier ones have finished, and measures each
// one's latency from its SCHEDULED start, so a stalled generator or a queue in the server counts
// against the server instead of slowing the offered load (no coordinated omission). The clock, the
// sleep and the request are passed in, so test/unit/bench/sustained-open-loop.test.ts drives it with
// a fake clock.
import { percentile } from './search.js';

export interface OpenLoopOptions {
  /** Requests per second offered by ALL load processes together. */
  rate: number;
  durationMs: number;
  /** The window's start on `now()`'s clock. */
  t0: number;
  /** This process takes requests offset, offset + stride, offset + 2·stride, … of the common schedule. */
  offset: number;
  stride: number;
  /** An answer later than this (from its scheduled start) is slow; answers by t0 + durationMs + it count as in the window. */
  allowanceMs: number;
  /** Stop early (and abandon what is in flight) when more than this many of this process's requests are in flight. */
  maxInFlight: number;
  /** Stop early when more than this many answers were slow (the p99 limit is then broken anyway). */
  maxSlow: number;
}

export interface Outcome {
  ok: boolean;
  /** Why it is not ok (status and body, or the error). */
  error?: string;
  /** The connection resumed a TLS session. */
  reused?: boolean;
}

export interface Started {
  done: Promise<Outcome>;
  /** Abandons the request (its promise then settles, rejected or not). */
  cancel(): void;
}

export interface OpenLoopClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Lets answers be handled between bursts of starts. */
  yieldNow(): Promise<void>;
}

export interface OpenLoopReport {
  /** Requests started (all of this process's share of the window, unless stopped early). */
  started: number;
  ok: number;
  okInWindow: number;
  errors: number;
  errorSamples: string[];
  aborted: string | null;
  /** In flight when the step was stopped early, abandoned (neither ok nor errors). */
  abandoned: number;
  reused: number;
  /** Latency of each ok answer, ms from its scheduled start (unsorted). */
  latenciesMs: number[];
  /** How late the generator started requests (actual − scheduled start), ms. */
  startLagMs: { p99: number; max: number };
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** The last answer, ms after t0. */
  lastAnswerMs: number;
}

const BURST = 16;

/** openLoop runs one step of the schedule for this process and reports what it got. */
export async function openLoop(o: OpenLoopOptions, start: (seq: number) => Started, clock: OpenLoopClock): Promise<OpenLoopReport> {
  const interval = 1000 / o.rate;
  const end = o.t0 + o.durationMs;
  const windowEnd = end + o.allowanceMs;
  const inFlight = new Set<Started>();
  const settled: Promise<void>[] = [];
  const latenciesMs: number[] = [];
  const lags: number[] = [];
  const errorSamples: string[] = [];
  let ok = 0;
  let okInWindow = 0;
  let errors = 0;
  let abandoned = 0;
  let reused = 0;
  let slow = 0;
  let peak = 0;
  let lastAnswer = o.t0;
  let aborted: string | null = null;
  const abort = (why: string) => {
    if (aborted) return;
    aborted = why;
    for (const s of inFlight) s.cancel();
  };

  let k = 0;
  let burst = 0;
  while (!aborted) {
    const seq = k * o.stride + o.offset;
    const due = o.t0 + seq * interval;
    if (due >= end) break;
    const now = clock.now();
    if (now < due) {
      burst = 0;
      await clock.sleep(due - now);
      continue;
    }
    if (++burst % BURST === 0) await clock.yieldNow();
    if (aborted) break;
    k++;
    lags.push(clock.now() - due);
    const s = start(seq);
    inFlight.add(s);
    peak = Math.max(peak, inFlight.size);
    settled.push(
      s.done.then(
        (r) => {
          inFlight.delete(s);
          const at = clock.now();
          lastAnswer = Math.max(lastAnswer, at);
          if (aborted && !r.ok) return void abandoned++;
          if (!r.ok) {
            errors++;
            if (errorSamples.length < 5) errorSamples.push((r.error ?? 'failed').slice(0, 300));
            return abort(`an error: ${(r.error ?? 'failed').slice(0, 200)}`);
          }
          ok++;
          if (r.reused) reused++;
          const latency = at - due;
          latenciesMs.push(latency);
          if (at <= windowEnd) okInWindow++;
          if (latency > o.allowanceMs && ++slow > o.maxSlow) abort(`more than ${o.maxSlow} answers slower than ${o.allowanceMs} ms`);
        },
        (err: Error) => {
          inFlight.delete(s);
          if (aborted) return void abandoned++;
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim().slice(0, 300));
          abort(`an error: ${err.message.slice(0, 200)}`);
        },
      ),
    );
    if (inFlight.size > o.maxInFlight) abort(`more than ${o.maxInFlight} requests in flight`);
  }
  await Promise.all(settled);
  lags.sort((a, b) => a - b);
  return {
    started: k,
    ok,
    okInWindow,
    errors,
    errorSamples,
    aborted,
    abandoned,
    reused,
    latenciesMs,
    startLagMs: { p99: percentile(lags, 0.99), max: lags.at(-1) ?? NaN },
    maxInFlight: peak,
    lastAnswerMs: lastAnswer - o.t0,
  };
}
