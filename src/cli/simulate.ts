import { isMain } from './is-main.js';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config.js';
import { localAdminTokenSource } from '../simulator/admin-token.js';
import { SimulationError } from '../simulator/errors.js';
import { formatProgress, formatSummary } from '../simulator/report.js';
import { runSimulation, type SimulationOptions, type TokenSource } from '../simulator/simulation.js';

const MAX_AGENTS = 10_000_000;
const MAX_APPROVE_BATCH = 500;

const USAGE = `Usage: npm run simulate -- --agents N [options]

Plays N device agents against a running core (npm start) over the real protocol: each makes an
EC P-256 key, enrolls with a CSR, is approved in batches through GraphQL (approveClients), polls for
its certificate, connects over mutual TLS and reports a vulscan run. At the end it compares the
core's authStatusSummary with what the mix implies, prints a summary and exits 0 if all went as
expected, 1 if not. Nothing else on the core may change meanwhile for the comparison to hold.

  --agents N              how many agents (default 100)
  --old-agents SHARE      9.x agents (imported with registerDevices; told to upgrade)   SHARE: 0.1 or 10%
  --never-approved SHARE  enroll and connect, but are never approved
  --revoked SHARE         approved and connected, then revoked (revokeClientCertificate); connect and fail
  --never-connect SHARE   enroll and are approved, but never connect
  --concurrency N         agents acting at once (default 50)
  --approve-batch N       request ids per approveClients call, 1 to ${MAX_APPROVE_BATCH} (default 500)
  --rounds N              connections per agent, --interval apart (default 1)
  --duration D            keep reconnecting every --interval until D after the start (e.g. 10m)
  --interval D            between an agent's connections (default 60s; ±10 %)
  --graphql-url URL       default http://HOST:PORT/graphql from the core's settings (HOST, PORT)
  --agent-url URL         default https://HOST:AGENT_PORT from the core's settings
  --token JWT             a SECURITY_ADMIN token (better: CERTFLEET_TOKEN, kept out of the process list);
                          without either, a 15-minute one is made with the core's key in DATA_DIR
  --prefix P              agent ids are P-<number> (default sim-<random>, new each run)
  --seed N                fixes which agent plays which part
  --progress-every D      a progress line this often when stderr is not a terminal (default 10s)
  --json                  print the result as JSON instead of the text summary
  --help                  show this help

Durations: 500ms, 90s, 15m, 2h, or seconds.
`;

/** UsageError is a bad command line: exit 2. */
class UsageError extends Error {}

export interface SimulateCliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether err is a terminal: then progress is one line rewritten in place. */
  isTTY: boolean;
  columns?: number;
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
}

const defaultIo = (): SimulateCliIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: process.stderr.isTTY === true,
  columns: process.stderr.columns,
  env: process.env,
});

/** runSimulateCli runs the simulator from command-line arguments and returns the exit code (0 as expected, 1 not, 2 bad arguments, 130 interrupted). */
export async function runSimulateCli(argv: string[], io: SimulateCliIo = defaultIo()): Promise<number> {
  let opts: Omit<SimulationOptions, 'token'>;
  let tokenArg: string | undefined;
  let progressEveryMs: number;
  let json: boolean;
  try {
    const parsed = parseCommandLine(argv, io.env);
    if (parsed === 'help') {
      io.out(USAGE);
      return 0;
    }
    ({ opts, tokenArg, progressEveryMs, json } = parsed);
  } catch (e) {
    const usage = e instanceof UsageError || String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    io.err(`certfleet simulate: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}${usage ? ' (see --help)' : ''}\n`);
    return usage ? 2 : 1;
  }

  let token: TokenSource;
  try {
    token = tokenArg ?? (await localAdminTokenSource(config(io.env).auth));
  } catch (e) {
    io.err(`certfleet simulate: ${(e as Error).message}\n`);
    return 1;
  }

  let lastLine = 0;
  let live = false;
  const onProgress = (p: Parameters<typeof formatProgress>[0]) => {
    const line = formatProgress(p);
    if (io.isTTY) {
      const width = io.columns ?? 200;
      io.err(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
      live = true;
    } else if (p.elapsedMs - lastLine >= progressEveryMs) {
      lastLine = p.elapsedMs;
      io.err(`${line}\n`);
    }
  };

  io.err(`simulating ${opts.agents.toLocaleString('en-US')} agent${opts.agents === 1 ? '' : 's'} against ${opts.graphqlUrl} and ${opts.agentUrl}\n`);
  try {
    const result = await runSimulation({ ...opts, token, signal: io.signal }, onProgress);
    if (live) io.err('\n');
    io.out(json ? `${JSON.stringify(result, null, 2)}\n` : formatSummary(result));
    if (result.interrupted) return 130;
    return result.ok ? 0 : 1;
  } catch (e) {
    if (live) io.err('\n');
    const message = e instanceof SimulationError ? e.message : e instanceof Error ? e.message : String(e);
    const hint = e instanceof SimulationError && /ECONNREFUSED/.test(e.kind) ? ' — is the core running (npm start), and are the URLs right?' : '';
    io.err(`certfleet simulate: ${message.replace(/\s*\n\s*/g, ' ')}${hint}\n`);
    return 1;
  }
}

let cachedConfig: Config | null = null;
function config(env: Record<string, string | undefined>): Config {
  return (cachedConfig ??= loadConfig(env));
}

function parseCommandLine(
  argv: string[],
  env: Record<string, string | undefined>,
): 'help' | { opts: Omit<SimulationOptions, 'token'>; tokenArg: string | undefined; progressEveryMs: number; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      agents: { type: 'string' },
      'old-agents': { type: 'string' },
      'never-approved': { type: 'string' },
      revoked: { type: 'string' },
      'never-connect': { type: 'string' },
      concurrency: { type: 'string' },
      'approve-batch': { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      interval: { type: 'string' },
      'graphql-url': { type: 'string' },
      'agent-url': { type: 'string' },
      token: { type: 'string' },
      prefix: { type: 'string' },
      seed: { type: 'string' },
      'progress-every': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';

  const agents = wholeNumber('--agents', values.agents ?? '100', 1, MAX_AGENTS);
  const mix = {
    old: share('--old-agents', values['old-agents']),
    neverApproved: share('--never-approved', values['never-approved']),
    revoked: share('--revoked', values.revoked),
    neverConnect: share('--never-connect', values['never-connect']),
  };
  const total = mix.old + mix.neverApproved + mix.revoked + mix.neverConnect;
  if (total > 1 + 1e-9) throw new UsageError(`the shares add up to ${(total * 100).toFixed(1)} %, more than the whole fleet`);
  const rounds = values.rounds === undefined ? undefined : wholeNumber('--rounds', values.rounds, 1, 1_000_000);
  const durationMs = values.duration === undefined ? undefined : duration('--duration', values.duration, 1);
  const intervalMs = duration('--interval', values.interval ?? '60s', 0);
  const prefix = values.prefix;
  if (prefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/.test(prefix)) {
    throw new UsageError('--prefix must be 1 to 81 letters, digits, dots, underscores or dashes, starting with a letter or digit');
  }
  const token = values.token ?? (env.CERTFLEET_TOKEN?.trim() || undefined);
  if (token !== undefined && !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw new UsageError('the token (--token or CERTFLEET_TOKEN) is not a JWT');

  const graphqlUrl = url('--graphql-url', values['graphql-url'] ?? (() => `http://${hostOf(config(env).host)}:${config(env).port}/graphql`), ['http:', 'https:']);
  const agentUrl = url('--agent-url', values['agent-url'] ?? (() => `https://${hostOf(config(env).host)}:${config(env).agentPort}`), ['https:']);
  return {
    opts: {
      graphqlUrl,
      agentUrl,
      agents,
      mix,
      concurrency: wholeNumber('--concurrency', values.concurrency ?? '50', 1, 10_000),
      approveBatch: wholeNumber('--approve-batch', values['approve-batch'] ?? String(MAX_APPROVE_BATCH), 1, MAX_APPROVE_BATCH),
      rounds,
      durationMs,
      intervalMs,
      agentIdPrefix: prefix,
      seed: values.seed === undefined ? undefined : wholeNumber('--seed', values.seed, 0, 2 ** 31 - 1),
    },
    tokenArg: token,
    progressEveryMs: duration('--progress-every', values['progress-every'] ?? '10s', 0),
    json: values.json === true,
  };
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const text = raw.trim().replace(/[_,]/g, '');
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${name} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')} (got "${raw}")`);
  }
  return Number(text);
}

function share(name: string, raw: string | undefined): number {
  if (raw === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?|\.\d+)(%?)$/.exec(raw.trim());
  const value = m ? Number(m[1]) / (m[2] === '%' ? 100 : 1) : NaN;
  if (!(value >= 0 && value <= 1)) throw new UsageError(`${name} must be a share from 0 to 1, or a percentage like 10% (got "${raw}")`);
  return value;
}

function duration(name: string, raw: string, minMs: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m?.[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = m ? Math.round(Number(m[1]) * unit) : NaN;
  if (!(ms >= minMs && ms <= 30 * 24 * 3_600_000)) throw new UsageError(`${name} must be a duration like 500ms, 90s, 15m or 2h (got "${raw}")`);
  return ms;
}

function url(name: string, raw: string | (() => string), protocols: string[]): string {
  const text = typeof raw === 'string' ? raw : raw();
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`${name} must be a URL (got "${text}")`);
  }
  if (!protocols.includes(u.protocol)) throw new UsageError(`${name} must be a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL (got "${text}")`);
  return text.replace(/\/+$/, '');
}

// The core may listen on every address; the simulator reaches it on loopback then.
function hostOf(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

// Run only when executed directly, not when imported by a test.
if (isMain(import.meta.url)) {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupted: letting agents in flight finish, then the summary (Ctrl-C again to quit at once)\n');
    controller.abort();
  });
  process.exitCode = await runSimulateCli(process.argv.slice(2), { ...defaultIo(), signal: controller.signal });
  // Sockets of the last requests may keep the loop alive for a keep-alive period: the work is done.
  process.exit();
}
