/**
 * Sustained check-in benchmark: the highest rate of agent check-ins — reconnections resuming a
 * cached TLS session, each sending the agent's `POST /agent/v1/connect` — that certfleet's mTLS
 * gateway HOLDS under open-loop load, against the bare https server with client-certificate auth
 * (bench/gateway/bare-server.ts) in the same run, and what that means in devices served at a
 * 15-minute check-in (rate × 900). Goal: certfleet ≥ 0.8 × the bare server's rate.
 *
 * Processes: certfleet's core runs in this process (started like the gateway benchmark's, on the
 * embedded database or DATABASE_URL); the bare server runs in a child of its own
 * (bench/sustained/bare-child.ts); the load runs in G children (bench/gateway/client.ts, default
 * G = 2), each with devices of its own (enrolled and approved through the services, EC P-256 keys
 * made in that child), so no server shares an event loop with the load or with the other server.
 *
 * Open loop (bench/sustained/open-loop.ts): in a step at rate R, request i is started at
 * t0 + i / R whether or not earlier ones have finished (the load processes take every G-th request,
 * each for its own devices in turn); latency is measured from the request's SCHEDULED start to the
 * end of its answer, so a late start — a busy generator, a queue — counts against the server rather
 * than lowering the offered rate (no coordinated omission). Errors: a non-200 answer or a body other
 * than AUTHENTICATION_SUCCEEDED, a connection error, no answer within 5 s. A step stops early (and
 * does not hold) at its first error, when more than 2 s worth of requests are in flight, or when
 * more than 1 % of the window's requests were slower than 1 s.
 *
 * A step HOLDS when over its whole window: answers OK by the window's end + 1 s, per second of the
 * window, are ≥ 95 % of the offered rate; p99 latency ≤ 1 s; no errors (bench/sustained/search.ts).
 *
 * Search, per server, the two interleaved step by step (certfleet, bare, bare, certfleet, …):
 * coarse steps from 100/s multiplying by 1.5 while they hold (halving while they fail), bisection
 * between the highest held and lowest failed rate down to 10 %, then the highest held rate is held
 * for the long window (60 s), stepping down 10 % when that fails (up to 3 tries). The whole search
 * keeps within a budget (400 s; with setup the benchmark takes at most about 8 minutes), keeping back the time of a
 * confirming hold per server. Full: steps of 5 s, holds of 60 s, 2 × 200 devices. --quick: steps
 * of 2 s, factor 2, one bisection step, one hold of 2 s, a 16 s budget, 2 × 16 devices (30–45 s
 * in all: proof that it runs, not figures).
 *
 * Usage: npx tsx bench/sustained.bench.ts [--quick] [--generators G] [--devices-per-generator N]
 *          [--step S] [--hold S] [--budget S] [--profile DIR] [--core-env KEY=VALUE]… [--history-at-cap]
 *   --history-at-cap starts every device with CONNECTION_HISTORY_PER_DEVICE results (a fleet after
 *   about a day), so that every result pays the per-device cap from the first step.
 *   --profile DIR writes a CPU profile of the core's process (this one) per certfleet step into DIR
 *   (summarise with bench/profile-summary.ts); --core-env sets the core's settings on top of the
 *   benchmark's (e.g. CONNECTION_HISTORY_PER_DEVICE=10000 to keep the per-device cap from running).
 * Writes bench/results/sustained.json and sustained.<embedded|postgres>.json (or into
 * $BENCH_RESULTS_DIR when that is set).
 */
import { parseArgs } from 'node:util';
import { positiveNumber, runBenchMain, UsageError } from './bench-common.js';
import { runSustainedBench, type SustainedOptions } from './sustained/runner.js';

export { runSustainedBench, type SustainedBenchResult, type SustainedOptions } from './sustained/runner.js';

const USAGE = 'usage: npx tsx bench/sustained.bench.ts [--quick] [--generators G] [--devices-per-generator N] [--step S] [--hold S] [--budget S] [--profile DIR] [--core-env KEY=VALUE]… [--history-at-cap]';

function sustainedArgs(argv: string[]): SustainedOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      generators: { type: 'string' },
      'devices-per-generator': { type: 'string' },
      step: { type: 'string' },
      hold: { type: 'string' },
      budget: { type: 'string' },
      profile: { type: 'string' },
      'history-at-cap': { type: 'boolean' },
      'core-env': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const o: SustainedOptions = {};
  if (values.quick) o.quick = true;
  if (values.generators !== undefined) o.generators = positiveNumber(values.generators, '--generators');
  if (values['devices-per-generator'] !== undefined) o.devicesPerGenerator = positiveNumber(values['devices-per-generator'], '--devices-per-generator');
  if (values.step !== undefined) o.stepMs = positiveNumber(values.step, '--step', true) * 1000;
  if (values.hold !== undefined) o.holdMs = positiveNumber(values.hold, '--hold', true) * 1000;
  if (values.budget !== undefined) o.budgetMs = positiveNumber(values.budget, '--budget', true) * 1000;
  if (values.profile !== undefined) o.profileDir = values.profile;
  if (values['history-at-cap']) o.historyAtCap = true;
  for (const kv of values['core-env'] ?? []) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(kv);
    if (!m) throw new UsageError(`--core-env needs KEY=VALUE (got ${JSON.stringify(kv)})`);
    (o.coreEnv ??= {})[m[1]!] = m[2]!;
  }
  return o;
}

runBenchMain(import.meta.url, USAGE, async () => {
  const opts = sustainedArgs(process.argv.slice(2));
  if (opts === null) return void console.log(USAGE);
  const { redactUrl } = await import('../src/config.js');
  const commandLine = 'npx tsx bench/sustained.bench.ts' + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '');
  const command = process.env.DATABASE_URL ? `DATABASE_URL=${redactUrl(process.env.DATABASE_URL)} ${commandLine}` : commandLine;
  await runSustainedBench({ ...opts, command, write: true });
});
