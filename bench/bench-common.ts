// Helpers both benchmarks use: what machine and commit a result belongs to, and a CPU profiler.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

/** machine describes the computer a result was measured on. */
export function machine() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    nproc: cpus().length,
    node: process.version,
    cpuModel,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
  };
}

/** sourceVersion names the commit measured, and whether src/ had uncommitted changes. */
export function sourceVersion(): { commit: string | null; srcDirty: boolean | null } {
  try {
    const git = (...a: string[]) => execFileSync('git', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', 'HEAD'), srcDirty: git('status', '--porcelain', '--', 'src').length > 0 };
  } catch {
    return { commit: null, srcDirty: null };
  }
}

/** startProfiler profiles this process through the inspector, sampling every intervalUs microseconds. */
export async function startProfiler(intervalUs: number): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((ok, fail) => session.post(method, params ?? {}, (err, res) => (err ? fail(err) : ok(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      session.disconnect();
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

/**
 * resultsDir is where a benchmark writes its JSON: BENCH_RESULTS_DIR when set (the runner's quick
 * mode points it at a scratch directory, so a smoke run never replaces recorded results), else
 * bench/results next to the benchmark.
 */
export function resultsDir(benchDir: string): string {
  return process.env.BENCH_RESULTS_DIR || join(benchDir, 'results');
}
