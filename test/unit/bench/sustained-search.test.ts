import { describe, expect, it } from 'vitest';
import { budgetCall, HOLD_CRITERIA, judgeStep, percentile, RateSearch, type SearchSettings, type StepOutcome } from '../../../bench/sustained/search.js';

const FULL: SearchSettings = {
  startRate: 100,
  factor: 1.5,
  minRate: 10,
  maxRate: 5000,
  refineRatio: 1.1,
  maxRefineSteps: 3,
  stepDown: 0.9,
  maxConfirmTries: 3,
};

/** drive runs a search against a server that holds a short step up to `short` and a long hold up to `long` requests/s. */
function drive(s: RateSearch, short: number, long = short, maxSteps = 50) {
  for (let i = 0; i < maxSteps; i++) {
    const step = s.next();
    if (!step) return s.history.map((h) => `${h.phase} ${h.rate} ${h.held ? 'held' : 'failed'}`);
    s.record(step.rate <= (step.phase === 'confirm' ? long : short));
  }
  throw new Error('the search did not end');
}

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('takes the smallest value with at least p of the values at or below it', () => {
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.9)).toBe(90);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('lets one slow answer in a hundred pass p99, and not two', () => {
    const one = [...Array(99).fill(10), 5000];
    const two = [...Array(98).fill(10), 5000, 5000];
    expect(percentile(one, 0.99)).toBe(10);
    expect(percentile(two, 0.99)).toBe(5000);
  });

  it('gives the only value for one, NaN for none', () => {
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.99)).toBeNaN();
  });
});

describe('judgeStep', () => {
  const good: StepOutcome = {
    offeredRate: 200,
    durationMs: 5000,
    scheduled: 1000,
    ok: 1000,
    okInWindow: 1000,
    errors: 0,
    aborted: null,
    latenciesMs: Array.from({ length: 1000 }, (_, i) => (i < 990 ? 20 : 900)),
  };

  it('holds when every answer came in time, p99 is within 1 s and nothing failed', () => {
    const v = judgeStep(good);
    expect(v).toEqual({ held: true, achievedRate: 200, achievedShare: 1, p99Ms: 20, reasons: [] });
  });

  it('uses the criteria of the brief: 95 % of the offered rate, p99 ≤ 1 s, no errors', () => {
    expect(HOLD_CRITERIA).toEqual({ minAchievedShare: 0.95, maxP99Ms: 1000, maxErrors: 0 });
  });

  it('fails on a single error', () => {
    const v = judgeStep({ ...good, ok: 999, okInWindow: 999, errors: 1 });
    expect(v.held).toBe(false);
    expect(v.reasons).toEqual(['1 error(s)']);
  });

  it('fails when p99 passes 1 s', () => {
    const slow = Array.from({ length: 1000 }, (_, i) => (i < 980 ? 20 : 1001));
    const v = judgeStep({ ...good, latenciesMs: slow });
    expect(v.held).toBe(false);
    expect(v.p99Ms).toBe(1001);
    expect(v.reasons).toEqual(['p99 1001 ms']);
  });

  it('fails when fewer than 95 % of the offered requests were answered in the window', () => {
    const v = judgeStep({ ...good, okInWindow: 949 });
    expect(v.held).toBe(false);
    expect(v.achievedShare).toBeCloseTo(0.949, 6);
    expect(v.reasons).toEqual(['achieved 94.9 % of the offered rate']);
    expect(judgeStep({ ...good, okInWindow: 950 }).held).toBe(true);
  });

  it('fails a step stopped early, and one with no answers at all', () => {
    expect(judgeStep({ ...good, aborted: 'more than 432 requests in flight' }).reasons).toEqual(['stopped early: more than 432 requests in flight']);
    const none = judgeStep({ ...good, ok: 0, okInWindow: 0, latenciesMs: [] });
    expect(none.held).toBe(false);
    expect(none.reasons).toEqual(['achieved 0.0 % of the offered rate', 'p99 n/a']);
  });
});

describe('RateSearch', () => {
  it('climbs, bisects, then confirms the highest rate held', () => {
    const s = new RateSearch(FULL);
    expect(drive(s, 300)).toEqual([
      'coarse 100 held',
      'coarse 150 held',
      'coarse 225 held',
      'coarse 338 failed',
      'refine 276 held',
      'refine 305 failed',
      'refine 290 held',
      'confirm 290 held',
    ]);
    expect(s.confirmed).toBe(290);
    expect(s.bestShort).toBe(290);
    expect(s.note).toBeNull();
    expect(s.done).toBe(true);
  });

  it('halves from a start rate that fails until one holds', () => {
    const s = new RateSearch(FULL);
    expect(drive(s, 30)).toEqual([
      'coarse 100 failed',
      'coarse 50 failed',
      'coarse 25 held',
      'refine 35 failed',
      'refine 30 held',
      'refine 32 failed',
      'confirm 30 held',
    ]);
    expect(s.confirmed).toBe(30);
  });

  it('steps down when the long hold fails, and gives up after maxConfirmTries', () => {
    const s = new RateSearch(FULL);
    const h = drive(s, 300, 240);
    expect(h.slice(-3)).toEqual(['confirm 290 failed', 'confirm 261 failed', 'confirm 235 held']);
    expect(s.confirmed).toBe(235);

    const t = new RateSearch({ ...FULL, maxConfirmTries: 2 });
    expect(drive(t, 300, 240).slice(-2)).toEqual(['confirm 290 failed', 'confirm 261 failed']);
    expect(t.confirmed).toBeNull();
    expect(t.bestShort).toBe(290);
    expect(t.note).toBe('no rate held for the long window in 2 tries');
  });

  it('ends with nothing when even the minimum rate fails', () => {
    const s = new RateSearch(FULL);
    expect(drive(s, 5)).toEqual(['coarse 100 failed', 'coarse 50 failed', 'coarse 25 failed', 'coarse 13 failed']);
    expect(s.confirmed).toBeNull();
    expect(s.bestShort).toBeNull();
    expect(s.note).toBe('nothing held down to 13 requests/s');
  });

  it('stops climbing at the generator ceiling and says so', () => {
    const s = new RateSearch({ ...FULL, maxRate: 300 });
    expect(drive(s, Infinity)).toEqual(['coarse 100 held', 'coarse 150 held', 'coarse 225 held', 'coarse 300 held', 'confirm 300 held']);
    expect(s.confirmed).toBe(300);
    expect(s.note).toMatch(/generator's ceiling of 300/);
  });

  it('names the same step until it is recorded, and refuses a record without a step', () => {
    const s = new RateSearch(FULL);
    expect(() => s.record(true)).toThrow(/no step pending/);
    expect(s.next()).toEqual({ phase: 'coarse', rate: 100 });
    expect(s.next()).toEqual({ phase: 'coarse', rate: 100 });
    s.record(true);
    expect(s.next()).toEqual({ phase: 'coarse', rate: 150 });
  });

  it('goes to its confirming hold early when time is short, or ends when nothing held yet', () => {
    const s = new RateSearch(FULL);
    s.next();
    s.record(true);
    s.next();
    s.record(true); // 150 held
    s.next(); // 225 pending
    s.skipToConfirm();
    expect(s.next()).toEqual({ phase: 'confirm', rate: 150 });

    const t = new RateSearch(FULL);
    t.next();
    t.record(false);
    t.skipToConfirm();
    expect(t.next()).toBeNull();
    expect(t.note).toBe('nothing held before the time ran out');

    const u = new RateSearch(FULL);
    u.next();
    u.stop('the search budget of 22 s ran out');
    expect(u.next()).toBeNull();
    expect(u.done).toBe(true);
    expect(u.note).toBe('the search budget of 22 s ran out');
  });

  it('refuses settings that cannot converge', () => {
    expect(() => new RateSearch({ ...FULL, factor: 1 })).toThrow(/factor/);
    expect(() => new RateSearch({ ...FULL, stepDown: 1 })).toThrow(/stepDown/);
    expect(() => new RateSearch({ ...FULL, minRate: 200 })).toThrow(/minRate/);
  });
});

describe('budgetCall', () => {
  // Full-mode costs: a 5 s step + 5 s pause + 1 s, a 60 s hold + 5 s + 1 s; budget 400 s.
  const base = { phase: 'coarse' as const, budgetMs: 400_000, stepCostMs: 11_000, holdCostMs: 66_000, othersRunning: 1, heldSomething: true };

  it('runs a short step while both holds still fit after it', () => {
    expect(budgetCall({ ...base, elapsedMs: 400_000 - 11_000 - 2 * 66_000 })).toBe('run');
    expect(budgetCall({ ...base, elapsedMs: 400_000 - 11_000 - 2 * 66_000 + 1 })).toBe('toConfirm');
  });

  it('lets a search with nothing held take short steps while the other hold fits, then stops it', () => {
    const none = { ...base, heldSomething: false };
    expect(budgetCall({ ...none, elapsedMs: 400_000 - 11_000 - 66_000 })).toBe('run');
    expect(budgetCall({ ...none, elapsedMs: 400_000 - 11_000 - 66_000 + 1 })).toBe('stop');
    expect(budgetCall({ ...none, othersRunning: 0, elapsedMs: 400_000 - 11_000 })).toBe('run');
  });

  it('runs a confirming hold only if it fits', () => {
    const hold = { ...base, phase: 'confirm' as const, stepCostMs: 66_000 };
    expect(budgetCall({ ...hold, elapsedMs: 334_000 })).toBe('run');
    expect(budgetCall({ ...hold, elapsedMs: 334_001 })).toBe('stop');
  });
});
