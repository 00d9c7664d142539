/**
 * Subscription fan-out benchmark: how long one device status change takes to reach EVERY open
 * `authStatusSummaryChanged` subscription of a real in-process core, against a bare `ws` server
 * broadcasting a message of the same size to the same number of sockets, in the same run.
 *
 * Each side has processes of its own, so that each holds only its own sockets (the open-file limit is
 * per process) and its heap is its own: the core runs in this process; the bare WebSocketServer in a
 * child (bench/fanout/bare-server.ts); the N + N client sockets in further children
 * (bench/fanout/client.ts, split evenly over at least 2; as many as the open-file limit needs, or
 * --client-processes). So one run reaches as many dashboards as one certfleet process can hold
 * (`ulimit -n` minus about 1,000 for files: 19,000 under a limit of 20,000). Clients speak the
 * graphql-ws protocol (graphql-transport-ws) by hand over `ws`: connection_init with the bearer token,
 * connection_ack, subscribe, first `next`.
 *
 * For each N (default 1000, then 5000):
 *  1. server memory (after a forced GC) before and after opening N certfleet subscribers, in this
 *     process; then the bare server's, in its process, before and after opening N bare sockets:
 *     bytes per idle subscriber / per bare socket;
 *  2. warm-up, then `--changes` interleaved rounds (the order flips every round, a pause between):
 *     - certfleet: `services.connections.recordConnectionResult(...)` for one agent, alternating
 *       succeeded / failed facts; timed from the call until the last of the N subscribers has
 *       received a summary whose `succeeded` and `failed` counts reflect it;
 *     - bare: one `ws.send(message)` per socket of a same-size JSON message; timed from the first
 *       send until the last of the N sockets has received it.
 *  Send and receive times come from each process's process.hrtime (CLOCK_MONOTONIC, one clock for all).
 *
 * Usage: npx tsx bench/fanout.bench.ts [--subscribers 1000,5000] [--changes 10] [--quick] [--profile DIR]
 *        [--client-processes K] [--heap-snapshot DIR]
 *   --quick is --subscribers 200 --changes 5. DATABASE_URL selects PostgreSQL, else the embedded
 *   database (PGlite in a temp DATA_DIR). --profile DIR writes a V8 CPU profile of this process (the
 *   server side) for each timed change and broadcast; summarise with
 *   `npx tsx bench/profile-summary.ts DIR/certfleet-*.cpuprofile`. Profiled figures go to DIR/fanout.json.
 *   --heap-snapshot DIR writes a heap snapshot of this process before and after opening each N's
 *   subscribers (compare them with `npx tsx bench/fanout/heap-diff.ts BEFORE IDLE N`).
 *
 * Writes bench/results/fanout.json and bench/results/fanout.<database>.json (or into BENCH_RESULTS_DIR)
 * and prints a markdown table.
 *
 * The pieces, in bench/fanout/: protocol.ts (the processes' messages), client.ts (the sockets'
 * children), bare-server.ts (the baseline's child), runner.ts (the run), measure.ts (statistics,
 * memory, limits), heap-diff.ts (what an idle subscriber keeps, from two heap snapshots).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { redactUrl } from '../src/config.js';
import { positiveNumber, runBenchMain, UsageError } from './bench-common.js';
import { fdLimits, largestSubscriberCount } from './fanout/measure.js';
import { runFanoutBench, type FanoutArgs } from './fanout/runner.js';

const USAGE =
  'usage: npx tsx bench/fanout.bench.ts [--subscribers 1000,5000|max] [--changes 10] [--quick] [--profile DIR] [--client-processes K] [--heap-snapshot DIR]';

/** fanoutArgs reads the command line; it returns null for --help. */
function fanoutArgs(argv: string[]): FanoutArgs | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      subscribers: { type: 'string' },
      changes: { type: 'string' },
      quick: { type: 'boolean' },
      profile: { type: 'string' },
      'client-processes': { type: 'string' },
      'heap-snapshot': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const quick = values.quick ?? false;
  const raw = values.subscribers;
  const sizes = raw?.split(',').map((x) => {
    // max: as many as one certfleet process can hold under this open-file limit.
    if (x.trim() === 'max') return largestSubscriberCount(fdLimits());
    if (!/^\d+$/.test(x.trim()) || Number(x) < 1) throw new UsageError(`--subscribers takes positive whole numbers (got ${JSON.stringify(raw)})`);
    return Number(x);
  });
  const changes = values.changes === undefined ? undefined : positiveNumber(values.changes, '--changes');
  return {
    sizes: sizes ?? (quick ? [200] : [1000, 5000]),
    changes: changes ?? (quick ? 5 : 10),
    profileDir: values.profile === undefined ? null : resolve(values.profile),
    clientProcesses: values['client-processes'] === undefined ? undefined : positiveNumber(values['client-processes'], '--client-processes'),
    heapSnapshotDir: values['heap-snapshot'] === undefined ? null : resolve(values['heap-snapshot']),
  };
}

runBenchMain(import.meta.url, USAGE, async () => {
  const args = fanoutArgs(process.argv.slice(2));
  if (args === null) return void console.log(USAGE);
  const commandLine = 'npx tsx bench/fanout.bench.ts' + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '');
  const command = process.env.DATABASE_URL ? `DATABASE_URL=${redactUrl(process.env.DATABASE_URL)} ${commandLine}` : commandLine;
  await runFanoutBench(args, command);
});
