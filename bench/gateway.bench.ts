/**
 * Agent gateway benchmark: connection results recorded per second through the mTLS agent gateway of
 * a real in-process core, against a bare Node `https` server with client-certificate auth that
 * records nothing, in the same run; on PostgreSQL, kept-alive connections also against the same bare
 * server recording each result with one INSERT through postgres.js (a scratch table created at the
 * start and dropped at the end; goal certfleet ≥ 1.5 × it). The embedded database skips that one.
 *
 * Setup (not timed): a core is started in this process (temp DATA_DIR, PORT=0, AGENT_PORT=0, the
 * embedded database, or PostgreSQL when DATABASE_URL is set). M devices are enrolled through
 * `services.clientAccess.enroll` with EC P-256 keys and CSRs made in the client process by the agent
 * client's own `csrPem()` (the keys never leave that process), approved with
 * `services.clientAccess.approveMany`, and handed their certificates from `getEnrollment`. Each
 * device then makes one `connect()` with the real agent client (`createAgentClient`), which must be
 * answered 200 AUTHENTICATION_SUCCEEDED. The bare server gets a server certificate from the same core
 * CA (EC P-256, issued by the core's own signer) and trusts the same CA, so both servers see the same
 * client certificates.
 *
 * Load: C workers in a CHILD process (bench/gateway/client.ts), so this process's CPU
 * is the servers' alone (the two processes still share the machine's CPUs). Each worker repeatedly
 * sends the agent's connect request, `POST /agent/v1/connect` with `{"agentId","agentVersion"}` and
 * the device's certificate, for the next device in turn, until the round's time is up. A request
 * counts when it is answered 200 with status AUTHENTICATION_SUCCEEDED; the gateway answers only after
 * the result has committed. After every certfleet round the rise of max(connection_results.id) must
 * cover every such answer. Modes:
 *   - handshake: a new TCP connection and a full TLS handshake per request (https.Agent keepAlive
 *     false, maxCachedSessions 0);
 *   - resumed:   a new TCP connection per request that resumes a cached TLS session (https.Agent
 *     keepAlive false, a session cache holding every device's session);
 *   - keepalive: requests on kept-alive connections (https.Agent keepAlive true; the sockets are
 *     closed at the end of each round, so each round opens its connections again, resumed).
 * Every response's socket is asked `isSessionReused()`, and the share is reported per mode.
 *
 * Rounds: for each round and mode, one certfleet run and one bare run of --duration each; the order
 * flips every round (certfleet, bare, bare, certfleet, …). Each (server, mode) gets one untimed
 * warm-up run first, long enough for two requests per device (so each has a session to resume).
 * Rates are completed requests divided by the time from the first request to the last answer; the
 * figure reported is the median over rounds, the ratio is median / median. Each run also records
 * the server process's CPU time (and, for a local PostgreSQL, its backends' CPU), the client's CPU,
 * latency, SQL statements per result and results per history INSERT (the group-commit batch size).
 *
 * Usage: npx tsx bench/gateway.bench.ts [--quick] [--devices M] [--concurrency C] [--duration S]
 *          [--rounds R] [--modes handshake,resumed,keepalive] [--profile DIR]
 *   Full: M = 200, C = 64, 5 s per run, 7 rounds (about 4–5 minutes). --quick: M = 32, C = 16, 1 s,
 *   2 rounds (about 35 s). --profile DIR writes a V8 CPU profile of this process (the server side) per
 *   timed run, DIR/<certfleet|bare>-<mode>-NNN.cpuprofile; summarise with
 *   `npx tsx bench/profile-summary.ts DIR/certfleet-resumed-*.cpuprofile`. Profiled figures go to
 *   DIR/gateway.json, not bench/results/.
 *
 * Writes bench/results/gateway.json and bench/results/gateway.<embedded|postgres>.json (or into
 * $BENCH_RESULTS_DIR when that is set) and prints a markdown table.
 *
 * From another program: `runGatewayBench(opts)` runs the whole benchmark IN THE CALLER'S PROCESS (the
 * core and the bare server run there; it forks the load child itself) and resolves with the result;
 * it writes the result files only with `write: true`. Importing this module starts nothing.
 *
 * The pieces, in bench/gateway/: protocol.ts (the two processes' messages), client.ts (the load
 * child), bare-server.ts (the baseline), devices.ts (the setup), runner.ts (the runs), results.ts
 * (the figures and how they print), host.ts (PostgreSQL's CPU and uncommitted sources).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { positiveNumber, runBenchMain, UsageError } from './bench-common.js';
import { ALL_MODES, type Mode } from './gateway/protocol.js';
import { runGatewayBench, type GatewayBenchOptions } from './gateway/runner.js';

export { runGatewayBench, type GatewayBenchOptions } from './gateway/runner.js';
export { markdownTable, type GatewayBenchResult, type ModeResult, type RunFigures, type TargetSummary } from './gateway/results.js';
export type { Mode, Target } from './gateway/protocol.js';

const USAGE =
  'usage: npx tsx bench/gateway.bench.ts [--quick] [--devices M] [--concurrency C] [--duration S] [--rounds R] [--modes handshake,resumed,keepalive] [--profile DIR]';

/** gatewayArgs reads the command line; it returns null for --help. */
function gatewayArgs(argv: string[]): GatewayBenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      devices: { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      modes: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const o: GatewayBenchOptions = {};
  if (values.quick) o.quick = true;
  if (values.devices !== undefined) o.devices = positiveNumber(values.devices, '--devices');
  if (values.concurrency !== undefined) o.concurrency = positiveNumber(values.concurrency, '--concurrency');
  if (values.rounds !== undefined) o.rounds = positiveNumber(values.rounds, '--rounds');
  if (values.duration !== undefined) o.durationMs = positiveNumber(values.duration, '--duration', true) * 1000;
  if (values.profile !== undefined) o.profileDir = resolve(values.profile);
  if (values.modes !== undefined) {
    const modes = values.modes.split(',').map((m) => m.trim());
    for (const m of modes) if (!ALL_MODES.includes(m as Mode)) throw new UsageError(`--modes takes ${ALL_MODES.join(', ')} (got ${JSON.stringify(m)})`);
    o.modes = modes as Mode[];
  }
  return o;
}

runBenchMain(import.meta.url, USAGE, async () => {
  const opts = gatewayArgs(process.argv.slice(2));
  if (opts === null) return void console.log(USAGE);
  const { redactUrl } = await import('../src/config.js');
  const commandLine = 'npx tsx bench/gateway.bench.ts' + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '');
  const command = process.env.DATABASE_URL ? `DATABASE_URL=${redactUrl(process.env.DATABASE_URL)} ${commandLine}` : commandLine;
  await runGatewayBench({ ...opts, command, write: true });
});
