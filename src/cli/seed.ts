import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { isMain } from './is-main.js';
import { redactUrl } from '../config.js';
import { DEFAULT_STATUS_MIX, SeedRefusedError, resolveStatusMix, seedFleet, type SeedProgress, type SeedReport } from '../seed/index.js';
import { openDatabase } from '../db/client.js';
import { AUTH_STATUSES, type AuthStatus } from '../domain/statuses.js';

const USAGE = `Usage: DATABASE_URL=postgres://... npm run seed -- --devices N [options]

Fills the PostgreSQL database at DATABASE_URL with a realistic fleet for scale tests: devices,
their connection history and client certificates, written into the app's own tables. Each batch
is one transaction that moves the chart counters by exactly what it added; at the end the
counters are checked against a recount. The database is migrated first if needed; the core server
device, the CA and the CRL are left to the core, which can run on the database before or after.

  --devices N         how many devices to add, 1 to 50,000,000 (required)
  --history K         connection results per device that has connected, 1 to 100 (default 3)
  --batch B           devices per batch (one transaction), 100 to 100,000 (default 10,000)
  --concurrency C     batches written at once, each on its own connection, 1 to 8 (default 2)
  --seed S            PRNG seed, 0 to 4294967295 (default 1): the same seed draws the same fleet
  --succeeded P       percent of devices AUTHENTICATION_SUCCEEDED (default ${DEFAULT_STATUS_MIX.AUTHENTICATION_SUCCEEDED})
  --no-auth-info P    percent NO_AUTHENTICATION_INFO (default ${DEFAULT_STATUS_MIX.NO_AUTHENTICATION_INFO})
  --failed P          percent AUTHENTICATION_FAILED, with failure reasons (default ${DEFAULT_STATUS_MIX.AUTHENTICATION_FAILED})
  --must-upgrade P    percent CLIENT_AGENTS_MUST_UPGRADE, 9.x agents (default ${DEFAULT_STATUS_MIX.CLIENT_AGENTS_MUST_UPGRADE})
                      (shares not given split what is left in proportion to their defaults)
  --append            add to a database that already has devices (default: refuse)
  --help              show this help

Certificate and request PEMs are placeholders that parse but verify with nothing; see src/seed/placeholders.ts.
`;

const MIX_FLAGS: Record<string, AuthStatus> = {
  succeeded: 'AUTHENTICATION_SUCCEEDED',
  'no-auth-info': 'NO_AUTHENTICATION_INFO',
  failed: 'AUTHENTICATION_FAILED',
  'must-upgrade': 'CLIENT_AGENTS_MUST_UPGRADE',
};

/** UsageError is a bad command line or environment: it exits 2 instead of 1. */
class UsageError extends Error {}

function intFlag(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const clean = text.replace(/[_,]/g, '');
  if (!/^\d+$/.test(clean) || Number(clean) < min || Number(clean) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got ${JSON.stringify(text)}`);
  }
  return Number(clean);
}

function percentFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const clean = text.replace(/%$/, '');
  if (!/^\d+(\.\d+)?$/.test(clean) || Number(clean) > 100) throw new UsageError(`--${name} must be a percentage from 0 to 100, got ${JSON.stringify(text)}`);
  return Number(clean);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** describe is the final summary, one fact per line. */
function describe(r: SeedReport): string {
  const lines = [
    `seeded ${fmt(r.devices)} devices (ids ${r.firstDeviceId}..${r.lastDeviceId}) in ${r.seconds.toFixed(1)} s: ${fmt(r.devices / r.seconds)} devices/s`,
    ...AUTH_STATUSES.map((s) => `  ${s.padEnd(28)} ${fmt(r.byStatus[s]).padStart(11)}  (${((100 * r.byStatus[s]) / r.devices).toFixed(1)}%)`),
    `  failure reasons: ${Object.entries(r.byFailureReason)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`,
    `connection history rows: ${fmt(r.historyRows)}`,
    `client certificates: ${Object.entries(r.certificates)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`,
    `chart counters now (checked against a GROUP BY recount): ${AUTH_STATUSES.map((s) => `${s} ${fmt(r.counters[s])}`).join(', ')}`,
    `devices before: ${fmt(r.devicesBefore)}; time drawing rows ${r.timings.drawSeconds.toFixed(1)} s, waiting for the database ${r.timings.databaseWaitSeconds.toFixed(1)} s`,
  ];
  return lines.join('\n') + '\n';
}

/** runSeedCli seeds from command-line arguments and the environment; returns the process exit code. */
export async function runSeedCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (text: string) => void = (t) => process.stdout.write(t),
  err: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        devices: { type: 'string' },
        history: { type: 'string' },
        batch: { type: 'string' },
        concurrency: { type: 'string' },
        seed: { type: 'string' },
        succeeded: { type: 'string' },
        'no-auth-info': { type: 'string' },
        failed: { type: 'string' },
        'must-upgrade': { type: 'string' },
        append: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (values.devices === undefined) throw new UsageError('--devices is required (see --help)');
    const devices = intFlag('devices', values.devices, 1, 50_000_000)!;
    const mix: Partial<Record<AuthStatus, number>> = {};
    for (const [flag, status] of Object.entries(MIX_FLAGS)) {
      const v = percentFlag(flag, values[flag as keyof typeof values] as string | undefined);
      if (v !== undefined) mix[status] = v;
    }
    try {
      resolveStatusMix(mix);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const opts = {
      devices,
      history: intFlag('history', values.history, 1, 100),
      batch: intFlag('batch', values.batch, 100, 100_000),
      concurrency: intFlag('concurrency', values.concurrency, 1, 8),
      seed: intFlag('seed', values.seed, 0, 0xffffffff),
      mix,
      append: values.append === true,
    };
    const databaseUrl = env.DATABASE_URL?.trim();
    if (!databaseUrl) {
      throw new UsageError(
        'DATABASE_URL is not set: the seed fills a PostgreSQL server, not the embedded database ' +
          '(e.g. createdb -h 127.0.0.1 -U postgres certfleet_scale, then ' +
          'DATABASE_URL=postgres://postgres@127.0.0.1:5432/certfleet_scale npm run seed -- --devices 1000000)',
      );
    }

    // One connection per batch being written, and one to reserve ids for the next batches meanwhile.
    const database = await openDatabase({ dataDir: tmpdir(), databaseUrl, poolSize: (opts.concurrency ?? 2) + 1 });
    try {
      out(`seeding ${fmt(devices)} devices into ${redactUrl(databaseUrl)}\n`);
      let lastPrint = 0;
      const progress = (p: SeedProgress) => {
        const now = Date.now();
        if (p.devicesInserted < p.devicesTotal && now - lastPrint < 5000) return;
        lastPrint = now;
        out(
          `  ${fmt(p.devicesInserted)} / ${fmt(p.devicesTotal)} devices (${((100 * p.devicesInserted) / p.devicesTotal).toFixed(0)}%), ` +
            `${fmt(p.historyRows)} history rows, ${fmt(p.certificates)} certificates, ${p.elapsedSeconds.toFixed(1)} s, ${fmt(p.devicesPerSecond)} devices/s\n`,
        );
      };
      const report = await seedFleet(database, opts, progress);
      out(describe(report));
      return 0;
    } finally {
      await database.close();
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    err(`certfleet seed: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    const isUsage = e instanceof UsageError || String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (e instanceof SeedRefusedError) return 1;
    return isUsage ? 2 : 1;
  }
}

// Run only when executed directly, not when imported by a test.
if (isMain(import.meta.url)) {
  process.exitCode = await runSeedCli(process.argv.slice(2));
}
