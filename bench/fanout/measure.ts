// Small measuring helpers of the fan-out benchmark: nearest-rank statistics, settled memory after a
// forced GC, the open-file limit, and waiting for a condition.
import { execFileSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** stats: median and p99 by nearest rank (with 10 samples p99 is the largest). */
export function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    n: sorted.length,
    min: sorted[0]!,
    median,
    p99: rank(0.99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((x, y) => x + y, 0) / sorted.length,
  };
}

/** fdLimits reads this process's open-file limits (a child shell inherits them). */
export function fdLimits(): { soft: number; hard: number } | null {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
    const num = (s: string | undefined) => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: num(out[0]), hard: num(out[1]) };
  } catch {
    return null;
  }
}

/** FD_HEADROOM is what a process keeps of its open-file limit for everything but its sockets. */
export const FD_HEADROOM = 1000;

/**
 * largestSubscriberCount is the most dashboards one certfleet process can serve under an open-file
 * limit: the soft limit minus FD_HEADROOM (database files, IPC, the listener), down to a thousand.
 */
export function largestSubscriberCount(limits: { soft: number } | null): number {
  const soft = limits === null || !Number.isFinite(limits.soft) ? 20_000 : limits.soft;
  return Math.max(1000, Math.floor((soft - FD_HEADROOM) / 1000) * 1000);
}

/** collectGarbage is global.gc, exposed at run time when node was started without --expose-gc. */
export function collectGarbage(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export async function settledMemory(gc: () => void): Promise<Mem> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(100);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

export function perItem(after: Mem, before: Mem, n: number) {
  const d = (k: keyof Mem) => Math.round((after[k] - before[k]) / n);
  return { rss: d('rss'), heapUsed: d('heapUsed'), external: d('external'), arrayBuffers: d('arrayBuffers') };
}

export async function waitUntil(pred: () => boolean, timeoutMs: number, what: string) {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
