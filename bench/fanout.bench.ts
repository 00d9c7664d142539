/**
 * Subscription fan-out benchmark: how long one device status change takes to reach EVERY open
 * `authStatusSummaryChanged` subscription of a real in-process core, against a bare `ws` server
 * broadcasting a message of the same size to the same number of sockets, in the same run.
 *
 * The server side (the core and the bare WebSocketServer) runs in this process; the N + N client
 * sockets run in a child process (bench/fanout/client.ts), so this process's
 * memory is the server's alone and the two sides do not share an event loop. Clients speak the
 * graphql-ws protocol (graphql-transport-ws) by hand over `ws`: connection_init with the bearer token,
 * connection_ack, subscribe, first `next`.
 *
 * For each N (default 1000, then 5000):
 *  1. server memory (after a forced GC) before and after opening N certfleet subscribers, then after
 *     opening N bare sockets: bytes per idle subscriber / per bare socket;
 *  2. warm-up, then `--changes` interleaved rounds (the order flips every round, a pause between):
 *     - certfleet: `services.connections.recordConnectionResult(...)` for one agent, alternating
 *       succeeded / failed facts; timed from the call until the last of the N subscribers has
 *       received a summary whose `succeeded` and `failed` counts reflect it;
 *     - bare: one `ws.send(message)` per socket of a same-size JSON message; timed from the first
 *       send until the last of the N sockets has received it.
 *  Receive times come from the child's process.hrtime (CLOCK_MONOTONIC, the same clock as here).
 *
 * Usage: npx tsx bench/fanout.bench.ts [--subscribers 1000,5000] [--changes 10] [--quick] [--profile DIR]
 *   --quick is --subscribers 200 --changes 5. DATABASE_URL selects PostgreSQL, else the embedded
 *   database (PGlite in a temp DATA_DIR). --profile DIR writes a V8 CPU profile of this process (the
 *   server side) for each timed change and broadcast; summarise with
 *   `npx tsx bench/profile-summary.ts DIR/certfleet-*.cpuprofile`. Profiled figures go to DIR/fanout.json.
 *
 * Writes bench/results/fanout.json and bench/results/fanout.<database>.json (or into BENCH_RESULTS_DIR)
 * and prints a markdown table.
 *
 * The pieces, in bench/fanout/: protocol.ts (the two processes' messages), client.ts (the sockets'
 * child), runner.ts (the run), measure.ts (statistics, memory, limits).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { redactUrl } from '../src/config.js';
import { positiveNumber, runBenchMain, UsageError } from './bench-common.js';
import { runFanoutBench, type FanoutArgs } from './fanout/runner.js';

const USAGE = 'usage: npx tsx bench/fanout.bench.ts [--subscribers 1000,5000] [--changes 10] [--quick] [--profile DIR]';

/** fanoutArgs reads the command line; it returns null for --help. */
function fanoutArgs(argv: string[]): FanoutArgs | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      subscribers: { type: 'string' },
      changes: { type: 'string' },
      quick: { type: 'boolean' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const quick = values.quick ?? false;
  const raw = values.subscribers;
  const sizes = raw?.split(',').map((x) => {
    if (!/^\d+$/.test(x.trim()) || Number(x) < 1) throw new UsageError(`--subscribers takes positive whole numbers (got ${JSON.stringify(raw)})`);
    return Number(x);
  });
  const changes = values.changes === undefined ? undefined : positiveNumber(values.changes, '--changes');
  return {
    sizes: sizes ?? (quick ? [200] : [1000, 5000]),
    changes: changes ?? (quick ? 5 : 10),
    profileDir: values.profile === undefined ? null : resolve(values.profile),
  };
}

runBenchMain(import.meta.url, USAGE, async () => {
  const args = fanoutArgs(process.argv.slice(2));
  if (args === null) return void console.log(USAGE);
  const commandLine = 'npx tsx bench/fanout.bench.ts' + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '');
  const command = process.env.DATABASE_URL ? `DATABASE_URL=${redactUrl(process.env.DATABASE_URL)} ${commandLine}` : commandLine;
  await runFanoutBench(args, command);
});
