// deploy/run-replicas.sh: two replicas on one PostgreSQL database behind HAProxy, on this machine, with
// the deploy recipe's configuration (deploy/haproxy/haproxy.cfg). Ctrl+C stops everything.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { redactUrl } from '../config.js';
import type { CoreProcess } from '../faults/core-process.js';
import { findHaproxy, startLoadBalancer, type LoadBalancer } from '../faults/haproxy.js';
import { createReplicaSet, type ReplicaSet } from '../faults/replica-set.js';
import { isMain } from './is-main.js';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/certfleet_replicas';
// On one machine HAProxy connects to the gateways from a loopback address of its own, the one the
// replicas trust for PROXY protocol, so that a direct connection from 127.0.0.1 stays a client's own.
const BALANCER_SOURCE = '127.0.0.2';

const USAGE = `Usage: deploy/run-replicas.sh [options]

Starts two certfleet replicas on one PostgreSQL database, each with a DATA_DIR of its own, and
HAProxy in front of them with deploy/haproxy/haproxy.cfg: one address for the API (HTTP and
WebSocket) and one for agents (TLS passed through, the client named to the replica in a PROXY
protocol v2 header). Prints the addresses; Ctrl+C stops everything.

The replicas share the database, the CA (kept in the database, its key encrypted with
CA_KEY_PASSPHRASE) and the token key (made in the first DATA_DIR and copied). Without
CA_KEY_PASSPHRASE in the environment a random one is kept in DIR/ca-key-passphrase, so that a second
run opens the same CA. Other core settings in the environment (LOG_LEVEL, AUTO_APPROVE_NETWORKS,
SHUTDOWN_DRAIN_MS, ...) reach both replicas; METRICS_PORT=N gives the first N and the second N + 1.

  --database-url URL   default: $DATABASE_URL, else ${DEFAULT_DATABASE_URL}
                       (the database is created when it does not exist)
  --dir DIR            DATA_DIRs, logs and the passphrase file (default ./replicas)
  --host ADDRESS       where HAProxy listens (default 127.0.0.1; 0.0.0.0 for other machines, which
                       then need this machine's name in AGENT_HOSTNAMES)
  --http-port N        HAProxy's API port (default 4000)
  --agent-port N       HAProxy's agent port (default 4443)
  --stats-port N       HAProxy's status page, on 127.0.0.1 (default 8404)
  --help               show this help

Needs HAProxy (Debian: apt-get install haproxy; or set HAPROXY to its path) and a PostgreSQL server.
`;

class UsageError extends Error {}

interface Options {
  databaseUrl: string;
  dir: string;
  host: string;
  httpPort: number;
  agentPort: number;
  statsPort: number;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      'database-url': { type: 'string' },
      dir: { type: 'string' },
      host: { type: 'string' },
      'http-port': { type: 'string' },
      'agent-port': { type: 'string' },
      'stats-port': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return null;
  const port = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) throw new UsageError(`--${name} must be a port number (got "${raw}")`);
    return Number(raw);
  };
  const given = values['database-url'] ?? (env.DATABASE_URL?.trim() || undefined);
  const databaseUrl = given ?? DEFAULT_DATABASE_URL;
  let parsed: URL;
  try {
    parsed = new URL(databaseUrl);
  } catch {
    throw new UsageError(`--database-url must be a postgres:// URL (got "${redactUrl(databaseUrl)}")`);
  }
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol) || parsed.pathname.length < 2) {
    throw new UsageError(`--database-url must be a postgres://user@host:port/database URL (got "${redactUrl(databaseUrl)}")`);
  }
  return {
    databaseUrl,
    dir: resolve(values.dir ?? './replicas'),
    host: values.host ?? '127.0.0.1',
    httpPort: port('http-port', values['http-port'], 4000),
    agentPort: port('agent-port', values['agent-port'], 4443),
    statsPort: port('stats-port', values['stats-port'], 8404),
  };
}

/** ensureDatabase creates the database when it does not exist yet, from the server's maintenance database. */
async function ensureDatabase(url: string): Promise<'created' | 'exists'> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const sql = postgres(maintenance.toString(), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_database where datname = ${name}`;
    if (row!.n > 0) return 'exists';
    await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`);
    return 'created';
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** passphraseFor is CA_KEY_PASSPHRASE, else the one kept in dir (made on the first run, mode 0600). */
async function passphraseFor(dir: string, env: NodeJS.ProcessEnv): Promise<{ passphrase: string; made: boolean }> {
  if (env.CA_KEY_PASSPHRASE) return { passphrase: env.CA_KEY_PASSPHRASE, made: false };
  const file = join(dir, 'ca-key-passphrase');
  if (existsSync(file)) return { passphrase: (await readFile(file, 'utf8')).trim(), made: false };
  const passphrase = randomBytes(24).toString('base64url');
  await writeFile(file, `${passphrase}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return { passphrase, made: true };
}

// What the script sets for each replica itself; every other variable of the environment is passed on.
// METRICS_PORT is one per replica: N for the first, N + 1 for the second.
const PER_REPLICA = new Set(['PORT', 'AGENT_PORT', 'HOST', 'DATA_DIR', 'DATABASE_URL', 'CA_KEY_PASSPHRASE', 'AGENT_PROXY_PROTOCOL_FROM', 'METRICS_PORT']);

/** runReplicas starts everything, prints the addresses and resolves with the exit code once stopped. */
export async function runReplicas(argv: string[], env: NodeJS.ProcessEnv = process.env, out: (line: string) => void = console.log): Promise<number> {
  let opts: Options | null;
  try {
    opts = parseOptions(argv, env);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`run-replicas: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (opts === null) {
    out(USAGE);
    return 0;
  }
  if (findHaproxy(env) === null) {
    process.stderr.write('run-replicas: HAProxy is not installed (Debian: apt-get install haproxy; or set HAPROXY to its path)\n');
    return 1;
  }
  const show = (p: string) => {
    const r = relative(process.cwd(), p);
    return r.startsWith('..') ? p : `./${r}`;
  };

  let set: ReplicaSet | null = null;
  let lb: LoadBalancer | null = null;
  let stopping = false;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStopped = r));
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    out('stopping HAProxy and the replicas');
    await lb?.stop();
    // HAProxy is gone, so there is no one to drain for: SIGINT stops a replica without the wait.
    await Promise.all((set?.replicas ?? []).map((r) => r.stop(20_000, 'SIGINT')));
    out('stopped');
    resolveStopped(code);
  };
  const onSignal = () => void stopAll(0);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const created = await ensureDatabase(opts.databaseUrl).catch((err: Error) => {
      throw new Error(`cannot reach or create the database ${redactUrl(opts.databaseUrl)}: ${err.message}`);
    });
    out(`database ${redactUrl(opts.databaseUrl)} (${created === 'created' ? 'created' : 'already there'})`);
    const forwarded: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined && !PER_REPLICA.has(k)) forwarded[k] = v;
    const { passphrase, made } = await passphraseFor(opts.dir, env);
    if (made && created === 'exists') {
      out(`note: a new CA passphrase was made in ${show(join(opts.dir, 'ca-key-passphrase'))}, but the database was already there: if it holds a CA, the replicas cannot open it (set CA_KEY_PASSPHRASE, or use a new database)`);
    }
    const metricsPort = env.METRICS_PORT?.trim();
    const metricsPorts = metricsPort && /^\d+$/.test(metricsPort) && Number(metricsPort) > 0 ? [Number(metricsPort), Number(metricsPort) + 1] : null;
    set = await createReplicaSet({
      databaseUrl: opts.databaseUrl,
      dir: opts.dir,
      passphrase,
      env: { SHUTDOWN_DRAIN_MS: '5000', ...forwarded, AGENT_PROXY_PROTOCOL_FROM: `${BALANCER_SOURCE}/32` },
      // A METRICS_PORT the core would refuse (0, a word) goes to both as it is, for the core to say so.
      envOfReplica: metricsPort ? [0, 1].map((i) => ({ METRICS_PORT: metricsPorts ? String(metricsPorts[i]) : metricsPort })) : undefined,
    });
    out('starting replica-a (it migrates the database and, on a new one, creates the CA), then replica-b');
    await set.start((r, ms) => out(`  ${r.name} ready in ${(ms / 1000).toFixed(1)} s`));
    if (stopping) return await stopped;
    const [a, b] = set.replicas as [CoreProcess, CoreProcess];
    lb = await startLoadBalancer({
      httpPort: opts.httpPort,
      agentPort: opts.agentPort,
      statsPort: opts.statsPort,
      bindHost: opts.host,
      agentSource: BALANCER_SOURCE,
      replicas: [
        { httpPort: a.port, agentPort: a.agentPort },
        { httpPort: b.port, agentPort: b.agentPort },
      ],
      logFile: join(opts.dir, 'haproxy.log'),
    });
    const balancer = lb;
    await balancer.until((s) => s.length === 4 && s.every((x) => x.status === 'UP'), 15_000, 'both replicas UP');

    const dataDir = show(set.dataDirs[0]!);
    out('');
    out('certfleet: two replicas behind HAProxy');
    out(`  API (GraphQL over HTTP and WebSocket)   ${balancer.graphqlUrl}   (the console at ${balancer.graphqlUrl.replace(/graphql$/, '')})`);
    out(`  agent gateway (TLS passed through)      ${balancer.agentUrl}`);
    out(`  HAProxy status page                     ${balancer.statsUrl}`);
    for (const r of [a, b]) {
      const metrics = metricsPorts ? `  metrics :${metricsPorts[r === a ? 0 : 1]}` : '';
      out(`  ${r.name}  pid ${r.pid}  API :${r.port}  gateway :${r.agentPort}${metrics}  log ${show(r.logFile)}`);
    }
    out(`  HAProxy    pid ${balancer.pid}  log ${show(join(opts.dir, 'haproxy.log'))}`);
    out('');
    out('A token (each replica holds the same key):');
    out(`  DATA_DIR=${dataDir} npm run token -- --subject admin --role SECURITY_ADMIN`);
    out('A fleet through HAProxy:');
    out(`  DATA_DIR=${dataDir} npm run simulate -- --agents 200 --graphql-url ${balancer.graphqlUrl} --agent-url ${balancer.agentUrl}`);
    out(`Stop a replica as a deploy does (HAProxy takes it out while it drains): kill -TERM ${a.pid}`);
    out('Ctrl+C stops everything.');

    // Say so when a replica or HAProxy ends on its own; without HAProxy there is nothing left to serve.
    const reported = new Set<string>();
    const watch = setInterval(() => {
      if (stopping) return;
      for (const r of [a, b]) {
        if (!r.running && !reported.has(r.name)) {
          reported.add(r.name);
          // A SIGTERM from the operator ends in exit code 0 after the drain: no need for the log's tail then.
          const how = r.crashed === null || r.crashed.startsWith('exit code 0:') ? 'exit code 0' : r.crashed;
          out(`${r.name} exited (${how}); HAProxy sends everything to the other replica. See ${show(r.logFile)}`);
        }
      }
      if (balancer.exited !== null) {
        out(`HAProxy exited (${balancer.exited}); see ${show(join(opts.dir, 'haproxy.log'))}`);
        void stopAll(1);
      }
    }, 500);
    const code = await stopped;
    clearInterval(watch);
    return code;
  } catch (err) {
    process.stderr.write(`run-replicas: ${(err as Error).message}\n`);
    for (const r of set?.replicas ?? []) if (r.crashed) process.stderr.write(`  ${r.name}: ${r.crashed}\n`);
    await stopAll(1);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (isMain(import.meta.url)) {
  runReplicas(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`run-replicas: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
