import { describe, expect, it } from 'vitest';
import { openLoop, type OpenLoopClock, type OpenLoopOptions, type Outcome, type Started } from '../../../bench/sustained/open-loop.js';

/**
 * A fake clock with its own event queue: sleeps and requests are timers on it, fired one at a time
 * in time order (each after the microtasks of the one before have run), so a run is deterministic
 * and takes no real time.
 */
class FakeTime {
  t = 0;
  private timers: { at: number; n: number; fire: () => void }[] = [];
  private n = 0;
  /** Extra time a given sleep (by call number) oversleeps: a stalled generator. */
  oversleep = new Map<number, number>();
  private sleeps = 0;

  at(ms: number, fire: () => void): () => void {
    const timer = { at: this.t + ms, n: this.n++, fire };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  clock(): OpenLoopClock {
    return {
      now: () => this.t,
      sleep: (ms) => new Promise<void>((ok) => this.at(ms + (this.oversleep.get(++this.sleeps) ?? 0), ok)),
      yieldNow: () => new Promise<void>((ok) => this.at(0, ok)),
    };
  }

  /** run drives the queue until `p` settles. */
  async run<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    const out = p.finally(() => (settled = true));
    while (!settled) {
      await new Promise<void>((ok) => setImmediate(ok));
      if (settled) break;
      this.timers.sort((a, b) => a.at - b.at || a.n - b.n);
      const next = this.timers.shift();
      if (!next) throw new Error('nothing left to happen, and the loop has not ended');
      this.t = Math.max(this.t, next.at);
      next.fire();
    }
    return out;
  }

  /** request answers after serviceMs (or per seq) with the outcome; cancel rejects it, as destroying a request does. */
  request(serviceMs: number | ((seq: number) => number), outcome: (seq: number) => Outcome = () => ({ ok: true, reused: true })) {
    const seqs: number[] = [];
    const start = (seq: number): Started => {
      seqs.push(seq);
      let cancelTimer = () => {};
      let fail: (e: Error) => void = () => {};
      const done = new Promise<Outcome>((ok, no) => {
        fail = no;
        cancelTimer = this.at(typeof serviceMs === 'number' ? serviceMs : serviceMs(seq), () => ok(outcome(seq)));
      });
      return {
        done,
        cancel: () => {
          cancelTimer();
          fail(new Error('socket hang up'));
        },
      };
    };
    return { start, seqs };
  }
}

const base: OpenLoopOptions = { rate: 100, durationMs: 1000, t0: 0, offset: 0, stride: 1, allowanceMs: 1000, maxInFlight: 1000, maxSlow: 1000 };

describe('openLoop', () => {
  it('starts rate × duration requests on schedule and times them from it', async () => {
    const f = new FakeTime();
    const r = f.request(10);
    const rep = await f.run(openLoop(base, r.start, f.clock()));
    expect(rep.started).toBe(100);
    expect(rep.ok).toBe(100);
    expect(rep.okInWindow).toBe(100);
    expect(rep.errors).toBe(0);
    expect(rep.aborted).toBeNull();
    expect(rep.reused).toBe(100);
    expect(new Set(rep.latenciesMs)).toEqual(new Set([10]));
    expect(rep.startLagMs.max).toBe(0);
    expect(r.seqs).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('keeps starting on schedule while earlier requests are still waiting (open, not closed, loop)', async () => {
    const f = new FakeTime();
    const rep = await f.run(openLoop(base, f.request(300).start, f.clock()));
    expect(rep.started).toBe(100);
    expect(rep.ok).toBe(100);
    // 300 ms answers at 100/s: 30 in flight at once, which a closed loop of one would never offer.
    expect(rep.maxInFlight).toBe(30);
    expect(rep.lastAnswerMs).toBe(990 + 300);
  });

  it('counts a late start against the answer: latency is from the scheduled start', async () => {
    const f = new FakeTime();
    // The generator wakes 55 ms late from its 3rd sleep (meant for request 3, due at 30 ms): requests
    // 3 to 8 (due at 30 … 80 ms) start together at 85 ms.
    f.oversleep.set(3, 55);
    const rep = await f.run(openLoop(base, f.request(10).start, f.clock()));
    expect(rep.started).toBe(100);
    const late = [85 - 30, 85 - 40, 85 - 50, 85 - 60, 85 - 70, 85 - 80].map((lag) => lag + 10);
    expect([...rep.latenciesMs].sort((a, b) => b - a).slice(0, 6)).toEqual(late);
    expect(rep.startLagMs.max).toBe(55);
  });

  it('splits one schedule between load processes by offset and stride', async () => {
    const seqs: number[][] = [];
    for (const offset of [0, 1]) {
      const f = new FakeTime();
      const r = f.request(10);
      const rep = await f.run(openLoop({ ...base, offset, stride: 2 }, r.start, f.clock()));
      expect(rep.started).toBe(50);
      seqs.push(r.seqs);
    }
    expect(seqs[0]!.every((s) => s % 2 === 0)).toBe(true);
    expect([...seqs[0]!, ...seqs[1]!].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('counts as in the window only answers by its end + the allowance', async () => {
    const f = new FakeTime();
    const rep = await f.run(openLoop({ ...base, rate: 10 }, f.request(1200).start, f.clock()));
    // Due at 0, 100, … 900 ms, answered 1.2 s later; the window closes at 1000 + 1000 ms.
    expect(rep.ok).toBe(10);
    expect(rep.okInWindow).toBe(9);
  });

  it('stops at the first error and abandons what is in flight', async () => {
    const f = new FakeTime();
    const r = f.request(50, (seq) => (seq === 10 ? { ok: false, error: 'HTTP 503: busy' } : { ok: true }));
    const rep = await f.run(openLoop(base, r.start, f.clock()));
    expect(rep.errors).toBe(1);
    expect(rep.errorSamples).toEqual(['HTTP 503: busy']);
    expect(rep.aborted).toBe('an error: HTTP 503: busy');
    // Request 10 answers at 150 ms (before request 15 is due to start); requests 11–14 were in flight
    // then and are abandoned; none is started after.
    expect(rep.started).toBe(15);
    expect(rep.ok).toBe(10);
    expect(rep.abandoned).toBe(4);
  });

  it('counts a connection error as an error', async () => {
    const f = new FakeTime();
    const start = (seq: number): Started => (seq === 3 ? { done: Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), cancel() {} } : f.request(5).start(seq));
    const rep = await f.run(openLoop(base, start, f.clock()));
    expect(rep.errors).toBe(1);
    expect(rep.errorSamples).toEqual(['ECONNREFUSED connect ECONNREFUSED']);
    expect(rep.aborted).toMatch(/^an error/);
  });

  it('stops when too many requests are in flight', async () => {
    const f = new FakeTime();
    const rep = await f.run(openLoop({ ...base, maxInFlight: 5 }, f.request(10_000).start, f.clock()));
    expect(rep.aborted).toBe('more than 5 requests in flight');
    expect(rep.started).toBe(6);
    expect(rep.abandoned).toBe(6);
    expect(rep.ok).toBe(0);
    expect(rep.errors).toBe(0);
  });

  it('stops once more answers than maxSlow were slower than the allowance', async () => {
    const f = new FakeTime();
    const rep = await f.run(openLoop({ ...base, maxSlow: 2 }, f.request(1500).start, f.clock()));
    expect(rep.aborted).toBe('more than 2 answers slower than 1000 ms');
    expect(rep.ok).toBe(3);
    expect(rep.latenciesMs).toEqual([1500, 1500, 1500]);
  });
});
