// The sustained check-in benchmark's pure logic: percentiles, whether a step held its offered rate,
// and the search for the highest rate held (coarse steps up, bisection, then a long hold to confirm).
// No I/O here; bench/sustained/runner.ts drives it and test/unit/bench/sustained-search.test.ts tests it.

/** A step holds when, over its whole window, all three of these are true (and nothing was aborted). */
export const HOLD_CRITERIA = {
  /** Answers received OK by the end of the window + the latency allowance, per second of the window, over the offered rate. */
  minAchievedShare: 0.95,
  /** p99 of result latency, measured from each request's scheduled start. */
  maxP99Ms: 1000,
  /** Non-2xx answers, connection errors and timeouts. */
  maxErrors: 0,
} as const;

/**
 * percentile is the nearest-rank percentile (p in [0, 1]) of values sorted ascending: the smallest
 * value with at least p of the values at or below it; NaN for no values.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** What one step of offered load got, added up over the load processes. */
export interface StepOutcome {
  /** Requests per second offered (scheduled). */
  offeredRate: number;
  durationMs: number;
  /** Requests scheduled in the window. */
  scheduled: number;
  /** Answered 200 with the expected body. */
  ok: number;
  /** Of ok, those answered by the end of the window plus the latency allowance (maxP99Ms). */
  okInWindow: number;
  errors: number;
  /** The load process stopped the step early (too many in flight, an error, too many slow answers): its reason. */
  aborted: string | null;
  /** Latency of every ok answer in ms from its scheduled start, sorted ascending. */
  latenciesMs: readonly number[];
}

export interface StepVerdict {
  held: boolean;
  achievedRate: number;
  achievedShare: number;
  p99Ms: number;
  /** Why it did not hold (empty when it held). */
  reasons: string[];
}

/** judgeStep says whether a step held its offered rate under HOLD_CRITERIA. */
export function judgeStep(s: StepOutcome, criteria: { minAchievedShare: number; maxP99Ms: number; maxErrors: number } = HOLD_CRITERIA): StepVerdict {
  const achievedRate = s.durationMs > 0 ? s.okInWindow / (s.durationMs / 1000) : 0;
  const achievedShare = s.offeredRate > 0 ? achievedRate / s.offeredRate : 0;
  const p99Ms = percentile(s.latenciesMs, 0.99);
  const reasons: string[] = [];
  if (s.aborted) reasons.push(`stopped early: ${s.aborted}`);
  if (s.errors > criteria.maxErrors) reasons.push(`${s.errors} error(s)`);
  if (!(achievedShare >= criteria.minAchievedShare)) reasons.push(`achieved ${(100 * achievedShare).toFixed(1)} % of the offered rate`);
  if (!(p99Ms <= criteria.maxP99Ms)) reasons.push(`p99 ${Number.isFinite(p99Ms) ? `${Math.round(p99Ms)} ms` : 'n/a'}`);
  return { held: reasons.length === 0, achievedRate, achievedShare, p99Ms, reasons };
}

export interface SearchSettings {
  /** The first rate tried (requests/s). */
  startRate: number;
  /** Coarse steps multiply the rate by this while they hold (> 1). */
  factor: number;
  /** Below this rate the search gives up (nothing held). */
  minRate: number;
  /** Above this rate the coarse search stops climbing (the load generator's ceiling). */
  maxRate: number;
  /** Bisection stops once the failed rate / the held rate is at most this (> 1). */
  refineRatio: number;
  /** At most this many bisection steps. */
  maxRefineSteps: number;
  /** A failed confirmation tries again at rate × this (< 1). */
  stepDown: number;
  /** At most this many confirmation holds. */
  maxConfirmTries: number;
}

export type Phase = 'coarse' | 'refine' | 'confirm';

export interface SearchStep {
  phase: Phase;
  rate: number;
}

/**
 * RateSearch finds the highest rate a server holds, one step at a time: `next()` names the next
 * step (null when done), `record(held)` says how it went. Coarse steps start at startRate and
 * multiply by factor while they hold (or halve while they fail, until one holds); once a held and
 * a failed rate are known, bisection (geometric) narrows them to refineRatio; then the highest held
 * rate is held for the long window, stepping down by stepDown when that fails. Rates are whole
 * numbers. `confirmed` is the highest rate held for the long window, `bestShort` the highest held
 * in a short step.
 */
export class RateSearch {
  private lo: number | null = null;
  private hi: number | null = null;
  private phase: Phase | 'done' = 'coarse';
  private pending: SearchStep | null = null;
  private refineSteps = 0;
  private confirmTries = 0;
  private candidate: number | null = null;
  confirmed: number | null = null;
  /** Why the search ended without a confirmed rate, if it did. */
  note: string | null = null;
  readonly history: (SearchStep & { held: boolean })[] = [];

  constructor(readonly settings: SearchSettings) {
    if (!(settings.factor > 1) || !(settings.refineRatio > 1) || !(settings.stepDown > 0 && settings.stepDown < 1)) {
      throw new Error('RateSearch: factor and refineRatio must be > 1, stepDown in (0, 1)');
    }
    if (!(settings.minRate > 0 && settings.minRate <= settings.startRate && settings.startRate <= settings.maxRate)) {
      throw new Error('RateSearch: need 0 < minRate <= startRate <= maxRate');
    }
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** The highest rate held in a short step, or null. */
  get bestShort(): number | null {
    return this.lo;
  }

  /** next names the next step, or null when the search is over. Calling it twice without record() names the same step. */
  next(): SearchStep | null {
    if (this.pending) return this.pending;
    const s = this.settings;
    for (;;) {
      if (this.phase === 'done') return null;
      if (this.phase === 'coarse') {
        let rate: number;
        if (this.lo === null && this.hi === null) rate = s.startRate;
        else if (this.lo === null) rate = Math.round(this.hi! / 2);
        else if (this.hi === null) rate = Math.round(this.lo * s.factor);
        else {
          this.phase = 'refine';
          continue;
        }
        if (this.lo === null && rate < s.minRate) {
          this.finish(`nothing held down to ${this.hi} requests/s`);
          continue;
        }
        if (this.hi === null && rate > s.maxRate) {
          if (this.lo! >= s.maxRate) {
            this.note = `held the generator's ceiling of ${s.maxRate} requests/s; the server may do more`;
            this.startConfirm();
            continue;
          }
          rate = s.maxRate;
        }
        return (this.pending = { phase: 'coarse', rate });
      }
      if (this.phase === 'refine') {
        const rate = Math.round(Math.sqrt(this.lo! * this.hi!));
        if (this.hi! / this.lo! <= s.refineRatio || this.refineSteps >= s.maxRefineSteps || rate <= this.lo! || rate >= this.hi!) {
          this.startConfirm();
          continue;
        }
        return (this.pending = { phase: 'refine', rate });
      }
      // confirm
      if (this.candidate === null || this.confirmTries >= s.maxConfirmTries || this.candidate < s.minRate) {
        this.finish(this.candidate === null ? 'nothing held' : `no rate held for the long window in ${this.confirmTries} tries`);
        continue;
      }
      return (this.pending = { phase: 'confirm', rate: this.candidate });
    }
  }

  /** record says how the step next() named went. */
  record(held: boolean): void {
    const step = this.pending;
    if (!step) throw new Error('RateSearch.record: no step pending');
    this.pending = null;
    this.history.push({ ...step, held });
    if (step.phase === 'confirm') {
      this.confirmTries++;
      if (held) {
        this.confirmed = step.rate;
        this.phase = 'done';
        return;
      }
      this.hi = step.rate;
      const lower = Math.round(step.rate * this.settings.stepDown);
      this.candidate = lower < step.rate ? lower : step.rate - 1;
      return;
    }
    if (step.phase === 'refine') this.refineSteps++;
    if (held) this.lo = this.lo === null ? step.rate : Math.max(this.lo, step.rate);
    else this.hi = this.hi === null ? step.rate : Math.min(this.hi, step.rate);
  }

  /** skipToConfirm ends the coarse and bisection steps early (time is short): next() names the confirming hold of the highest rate held so far. */
  skipToConfirm(): void {
    if (this.phase === 'coarse' || this.phase === 'refine') {
      this.pending = null;
      if (this.lo === null) this.finish('nothing held before the time ran out');
      else this.startConfirm();
    }
  }

  /** stop ends the search (the time budget ran out), with a note if nothing was confirmed. */
  stop(why: string): void {
    if (this.phase !== 'done') this.finish(why);
    this.pending = null;
  }

  private startConfirm() {
    this.phase = 'confirm';
    this.candidate = this.lo;
  }

  private finish(why: string) {
    this.phase = 'done';
    if (this.confirmed === null) this.note = this.note ? `${this.note}; ${why}` : why;
  }
}

/**
 * budgetCall decides whether a server's next step fits the search's time budget. A confirming hold
 * runs if it fits. A short step must also leave time for a hold per other search still running, and
 * for its own hold once it has held something: if not, a search that has held something goes to its
 * hold ('toConfirm') and one that has not ends ('stop'). Costs include the pause after a step.
 */
export function budgetCall(p: {
  phase: Phase;
  elapsedMs: number;
  budgetMs: number;
  /** This step's cost (its window, the pause after it, overhead). */
  stepCostMs: number;
  /** A confirming hold's cost. */
  holdCostMs: number;
  /** Other searches not yet done. */
  othersRunning: number;
  heldSomething: boolean;
}): 'run' | 'toConfirm' | 'stop' {
  if (p.phase === 'confirm') return p.elapsedMs + p.stepCostMs > p.budgetMs ? 'stop' : 'run';
  const holds = p.othersRunning + (p.heldSomething ? 1 : 0);
  if (p.elapsedMs + p.stepCostMs + holds * p.holdCostMs <= p.budgetMs) return 'run';
  return p.heldSomething ? 'toConfirm' : 'stop';
}
