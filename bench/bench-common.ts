// Helpers the benchmarks share: what machine and commit a result belongs to, a CPU profiler, the
// result files, the load child's IPC, the core's environment, and how a benchmark's script starts.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { isMain } from '../src/cli/is-main.js';

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
 * resultsDir is where a benchmark writes its JSON: BENCH_RESULTS_DIR when set (the suite runner
 * points it at a scratch directory, so its runs never replace the results BENCHMARKS.md cites),
 * else bench/results next to the benchmark.
 */
export function resultsDir(benchDir: string): string {
  return process.env.BENCH_RESULTS_DIR || join(benchDir, 'results');
}

/**
 * writeResults writes a run as `<name>.json` (the latest run) and `<name>.<database>.json` in
 * resultsDir, or only `<name>.json` in profileDir for a profiled run (slower than a real one, so
 * never among the results); returns the files written.
 */
export function writeResults(benchDir: string, name: string, database: string, result: object, profileDir?: string | null): string[] {
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const dir = resultsDir(benchDir);
  const written = profileDir ? [join(profileDir, `${name}.json`)] : [join(dir, `${name}.json`), join(dir, `${name}.${database}.json`)];
  for (const file of written) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, json);
  }
  return written;
}

/**
 * ClientProcess drives a benchmark's load-generating child process over IPC: messages with an `op`,
 * `{ op: 'error', message }` failing every wait, `{ op: 'exit' }` asking it to stop. Every wait is
 * bounded.
 */
export class ClientProcess<ToClient extends object, FromClient extends { op: string }> {
  private backlog: FromClient[] = [];
  private waiters = new Set<{ pred: (m: FromClient) => boolean; ok: (m: FromClient) => void; fail: (e: Error) => void }>();
  private failure: Error | undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const m = raw as FromClient;
      if (m.op === 'error') return this.failAll(new Error(`client process: ${(m as { message?: string }).message}`));
      for (const w of this.waiters) {
        if (w.pred(m)) {
          this.waiters.delete(w);
          w.ok(m);
          return;
        }
      }
      this.backlog.push(m);
    });
    this.exited = new Promise((ok) =>
      child.once('exit', (code) => {
        this.failAll(new Error(`client process exited (code ${code})`));
        ok(code);
      }),
    );
  }

  private failAll(err: Error) {
    this.failure ??= err;
    for (const w of this.waiters) w.fail(err);
    this.waiters.clear();
  }

  send(m: ToClient) {
    this.child.send(m);
  }

  /** waitFor resolves with the first message (already received or to come) that matches pred. */
  waitFor<T extends FromClient>(pred: (m: FromClient) => boolean, timeoutMs: number, what: string): Promise<T> {
    const i = this.backlog.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.backlog.splice(i, 1)[0] as T);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((ok, fail) => {
      const w = {
        pred,
        ok: (m: FromClient) => {
          clearTimeout(timer);
          ok(m as T);
        },
        fail: (e: Error) => {
          clearTimeout(timer);
          fail(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      if (this.child.connected) this.child.send({ op: 'exit' });
      const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(t);
    }
  }
}

/**
 * benchCoreEnv is the environment a benchmark starts its in-process core with: a temp DATA_DIR,
 * ports chosen by the system, quiet logs, no expiry sweep inside the timed part (an hour is longer
 * than any run), enrollment limits out of the way of the setups, PostgreSQL when databaseUrl is
 * given, and the suite's shared CA key passphrase
 * (several cores of one suite run open the same CA, one after another).
 */
export function benchCoreEnv(dataDir: string, databaseUrl: string | undefined, extra: Record<string, string> = {}) {
  const env: Record<string, string | undefined> = {
    DATA_DIR: dataDir,
    PORT: '0',
    AGENT_PORT: '0',
    LOG_LEVEL: 'warn',
    CORE_NAME: 'bench-core',
    SWEEP_INTERVAL_MS: '3600000',
    // Setups enroll thousands of agents from one address at once, which is what the limits are for.
    ENROLL_RATE_PER_MINUTE: '1000000',
    ENROLL_MAX_PENDING: '10000000',
    ...extra,
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  if (process.env.CA_KEY_PASSPHRASE) env.CA_KEY_PASSPHRASE = process.env.CA_KEY_PASSPHRASE;
  return env;
}

/** UsageError is a bad command line: runBenchMain prints it with the usage and exits 2. */
export class UsageError extends Error {}

/** positiveNumber reads an option's value as a positive whole number (or, with decimal, any positive number). */
export function positiveNumber(raw: string, name: string, decimal = false): number {
  const ok = decimal ? /^\d+(\.\d+)?$/.test(raw) : /^\d+$/.test(raw);
  if (!ok || Number(raw) <= 0) throw new UsageError(`${name} needs a positive ${decimal ? 'number' : 'whole number'} (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/**
 * runBenchMain runs a benchmark's main when moduleUrl is the script being run (importing the module
 * starts nothing). A bad command line (a UsageError, or an error of node:util parseArgs) prints its
 * message and the usage and exits 2; any other failure prints its stack (and cause) and exits 1.
 */
export function runBenchMain(moduleUrl: string, usage: string, main: () => Promise<void>): void {
  if (!isMain(moduleUrl)) return;
  main().catch((err: unknown) => {
    const code = (err as { code?: unknown } | null)?.code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`${(err as Error).message}\n${usage}\n`);
      process.exit(2);
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    if (err instanceof Error && err.cause) console.error('cause:', err.cause);
    process.exit(1);
  });
}

/** rssOf reads a process's resident memory from /proc (Linux), or NaN. */
export function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * dropScratchSides closes each side's connections and drops its scratch database, then the admin
 * connection; a failure to drop is logged, never thrown (the run's figures are already out).
 */
export async function dropScratchSides(
  sides: readonly { name: string; raw: { end(o: { timeout: number }): Promise<unknown> }; database: { close(): Promise<unknown> } }[],
  admin: { unsafe(q: string): Promise<unknown>; end(o: { timeout: number }): Promise<unknown> },
  log: (line: string) => void,
): Promise<void> {
  for (const s of sides) {
    await s.raw.end({ timeout: 5 }).catch(() => undefined);
    await s.database.close().catch(() => undefined);
    await admin.unsafe(`drop database if exists "${s.name}" with (force)`).catch((err: Error) => log(`could not drop ${s.name}: ${err.message}`));
  }
  await admin.end({ timeout: 5 });
}
