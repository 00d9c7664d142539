// A core server as an operator runs it (`npm start`), in a child process the fault run can SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { fetchCaCertificate } from '../agent-client/agent-client.js';

const ROOT = resolve(import.meta.dirname, '../..');
// The child gets only these from our environment, so no setting of the surrounding shell (a
// DATABASE_URL, a LOG_LEVEL) leaks into it: every core setting it has is one we chose.
const PASSED_THROUGH = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'LC_ALL', 'NODE_EXTRA_CA_CERTS'];

/** CoreProcessOptions are one replica's settings; `env` holds its core settings (DATABASE_URL, DATA_DIR, ...). */
export interface CoreProcessOptions {
  name: string;
  port: number;
  agentPort: number;
  env: Record<string, string>;
  /** Everything the child writes (stdout and stderr) is appended here. */
  logFile: string;
}

/** CoreProcess is a core server child process: started, killed and started again on the same ports. */
export interface CoreProcess {
  readonly name: string;
  readonly port: number;
  readonly agentPort: number;
  readonly graphqlUrl: string;
  readonly agentUrl: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  /** start spawns the server and resolves once both its GraphQL API and its agent gateway answer; the ms it took. */
  start(timeoutMs?: number): Promise<number>;
  /** kill9 sends SIGKILL and resolves once the process is gone. */
  kill9(): Promise<void>;
  /**
   * stop sends SIGTERM (the orderly stop: the drain, if SHUTDOWN_DRAIN_MS is set, then the close) and
   * waits, then SIGKILL after timeoutMs. SIGINT stops without the drain.
   */
  stop(timeoutMs?: number, signal?: 'SIGTERM' | 'SIGINT'): Promise<number | null>;
  /** killSync is for a process that is exiting: SIGKILL without waiting. */
  killSync(): void;
  /** running is whether the child is alive. */
  readonly running: boolean;
  /** crashed says how the process ended when nobody stopped it (exit code or signal, and its last stderr lines); null while it ran as told. */
  readonly crashed: string | null;
}

// Enough of the end of stderr to hold a crash's message and the top of its stack.
const STDERR_TAIL_CHARS = 2000;

/**
 * createCoreProcess prepares `node --import tsx src/cli/start.ts`: one process (the tsx CLI would
 * put a second node process in between, and a SIGKILL to it would leave the server running).
 */
export function createCoreProcess(opts: CoreProcessOptions): CoreProcess {
  const graphqlUrl = `http://127.0.0.1:${opts.port}/graphql`;
  const agentUrl = `https://127.0.0.1:${opts.agentPort}`;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let log: WriteStream | null = null;
  let stopping = false;
  let crashed: string | null = null;
  let stderrTail = '';

  const base: Record<string, string> = {};
  for (const k of PASSED_THROUGH) if (process.env[k] !== undefined) base[k] = process.env[k]!;

  return {
    name: opts.name,
    port: opts.port,
    agentPort: opts.agentPort,
    graphqlUrl,
    agentUrl,
    logFile: opts.logFile,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    get crashed() {
      return crashed;
    },
    async start(timeoutMs = 90_000) {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`${opts.name} is already running`);
      const started = performance.now();
      log ??= createWriteStream(opts.logFile, { flags: 'a' });
      log.write(`---- ${new Date().toISOString()} start ${opts.name}\n`);
      stopping = false;
      stderrTail = '';
      const c = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/start.ts')], {
        cwd: ROOT,
        env: {
          ...base,
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(opts.port),
          AGENT_PORT: String(opts.agentPort),
          // An orderly stop here is a test's step, not a deploy behind a load balancer: no drain wait unless asked.
          SHUTDOWN_DRAIN_MS: '0',
          ...opts.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      let exitInfo: string | null = null;
      exited = new Promise<void>((r) =>
        c.once('exit', (code, signal) => {
          exitInfo = signal ? `killed by ${signal}` : `exit code ${code}`;
          log?.write(`---- ${new Date().toISOString()} ${opts.name} ${exitInfo}\n`);
          if (!stopping) {
            crashed ??= `${exitInfo}: ${crashSummary(stderrTail)}`;
          }
          r();
        }),
      );
      c.stdout!.pipe(log, { end: false });
      c.stderr!.pipe(log, { end: false });
      c.stderr!.on('data', (d: Buffer) => {
        stderrTail = (stderrTail + d.toString()).slice(-STDERR_TAIL_CHARS);
      });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exitInfo !== null) throw new Error(`${opts.name} stopped while starting (${exitInfo}); see ${opts.logFile}`);
        if (Date.now() > deadline) {
          c.kill('SIGKILL');
          throw new Error(`${opts.name} did not start within ${timeoutMs} ms; see ${opts.logFile}`);
        }
        if (await answers(graphqlUrl, agentUrl)) return performance.now() - started;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill9() {
      if (!child) return;
      stopping = true;
      child.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 20_000, signal = 'SIGTERM') {
      if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
      const c = child;
      stopping = true;
      c.kill(signal);
      const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      return c.exitCode;
    },
    killSync() {
      stopping = true;
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

async function answers(graphqlUrl: string, agentUrl: string): Promise<boolean> {
  try {
    const health = await fetch(graphqlUrl.replace(/\/graphql$/, '/readyz'), { signal: AbortSignal.timeout(2000) });
    await health.arrayBuffer();
    if (health.status !== 200) return false;
    // The gateway opens after the GraphQL server: the start is complete once it serves the CA.
    await fetchCaCertificate(agentUrl, 2000);
    return true;
  } catch {
    return false;
  }
}

/** crashSummary picks the error and the frame it was thrown from out of a dying process's last stderr. */
export function crashSummary(tail: string): string {
  const lines = tail.split('\n').map((l) => l.trim());
  const at = lines.findLastIndex((l) => /^[A-Za-z]*Error\b|^Uncaught|^node:internal.*triggerUncaughtException/.test(l));
  if (at === -1) return lines.filter((l) => l !== '').slice(-2).join(' / ').slice(-400);
  const frame = lines.slice(at + 1).find((l) => l.startsWith('at '));
  const origin = lines.slice(0, at).reverse().find((l) => /^(file:\/\/|\/).*:\d+$/.test(l));
  return [lines[at], frame ?? (origin && `(${origin})`)].filter(Boolean).join(' ').slice(0, 400);
}
