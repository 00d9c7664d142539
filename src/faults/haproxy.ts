// HAProxy in front of replicas, run from the deploy recipe's own configuration
// (deploy/haproxy/haproxy.cfg, its addresses from the environment), in a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, type WriteStream } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
/** The configuration deploy/README.md describes; the test and run-replicas.sh use it as shipped. */
export const HAPROXY_CONFIG = join(ROOT, 'deploy/haproxy/haproxy.cfg');

/**
 * findHaproxy is the HAProxy binary: $HAPROXY, else `haproxy` on the PATH, else Debian's
 * /usr/sbin/haproxy (root's PATH has /usr/sbin; another user's may not). null when there is none.
 */
export function findHaproxy(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [
    ...(env.HAPROXY ? [env.HAPROXY] : []),
    ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'haproxy')),
    '/usr/sbin/haproxy',
  ];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  return null;
}

/** ReplicaAddresses are one replica's two ports, as HAProxy reaches them. */
export interface ReplicaAddresses {
  httpPort: number;
  agentPort: number;
}

export interface LoadBalancerOptions {
  /** Where HAProxy listens: the API (HTTP and WebSocket), agents (TCP), its status page. */
  httpPort: number;
  agentPort: number;
  statsPort: number;
  /** The address HAProxy listens on (127.0.0.1 unless told). */
  bindHost?: string;
  /**
   * The address HAProxy connects to the gateways from, which the replicas trust for PROXY protocol
   * (their AGENT_PROXY_PROTOCOL_FROM). On one machine 127.0.0.2, so that a direct connection from
   * 127.0.0.1 (a readiness probe, an operator's curl) is still a client's own.
   */
  agentSource: string;
  /** The two replicas, on 127.0.0.1 (the configuration names replica-a and replica-b). */
  replicas: [ReplicaAddresses, ReplicaAddresses];
  /** HAProxy's log (its stdout and stderr) is appended here. */
  logFile: string;
  binary?: string;
}

/** ServerState is one row of HAProxy's status CSV for a server: its backend, name, status (UP, DOWN, ...) and sessions now open. */
export interface ServerState {
  backend: string;
  server: string;
  status: string;
  sessions: number;
}

export interface LoadBalancer {
  /** The GraphQL API and agent gateway through HAProxy. */
  readonly graphqlUrl: string;
  readonly agentUrl: string;
  readonly statsUrl: string;
  readonly pid: number | undefined;
  /** servers reads the status page: every server of the api and agents backends. */
  servers(): Promise<ServerState[]>;
  /** until polls the status page until pred holds, or fails after timeoutMs naming what it waited for. */
  until(pred: (servers: ServerState[]) => boolean, timeoutMs: number, what: string): Promise<ServerState[]>;
  /** stop ends HAProxy (SIGTERM, a hard stop) and waits for it to exit. */
  stop(): Promise<void>;
  /** exited says how HAProxy ended, null while it runs. */
  readonly exited: string | null;
}

/** startLoadBalancer checks the configuration, starts HAProxy in the foreground and waits until its status page answers. */
export async function startLoadBalancer(opts: LoadBalancerOptions): Promise<LoadBalancer> {
  const binary = opts.binary ?? findHaproxy();
  if (binary === null) throw new Error('HAProxy is not installed: apt-get install haproxy (Debian), or set HAPROXY to its path');
  const host = opts.bindHost ?? '127.0.0.1';
  const [a, b] = opts.replicas;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LB_HTTP_BIND: `${host}:${opts.httpPort}`,
    LB_AGENT_BIND: `${host}:${opts.agentPort}`,
    LB_STATS_BIND: `127.0.0.1:${opts.statsPort}`,
    LB_AGENT_SOURCE: opts.agentSource,
    REPLICA_A_HTTP: `127.0.0.1:${a.httpPort}`,
    REPLICA_A_AGENT: `127.0.0.1:${a.agentPort}`,
    REPLICA_B_HTTP: `127.0.0.1:${b.httpPort}`,
    REPLICA_B_AGENT: `127.0.0.1:${b.agentPort}`,
  };
  const log: WriteStream = createWriteStream(opts.logFile, { flags: 'a' });
  // -db: stay in the foreground, log to stdout, no daemon to chase afterwards.
  const child: ChildProcess = spawn(binary, ['-db', '-f', HAPROXY_CONFIG], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited: string | null = null;
  const gone = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exit code ${code}`;
      r();
    }),
  );
  child.once('error', (err) => {
    exited = `could not start ${binary}: ${err.message}`;
  });
  const statsUrl = `http://127.0.0.1:${opts.statsPort}/`;
  const lbHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  async function servers(): Promise<ServerState[]> {
    const res = await fetch(`${statsUrl};csv`, { signal: AbortSignal.timeout(2000) });
    if (res.status !== 200) throw new Error(`HAProxy's status page answered HTTP ${res.status}`);
    return parseStatsCsv(await res.text());
  }

  const lb: LoadBalancer = {
    graphqlUrl: `http://${lbHost}:${opts.httpPort}/graphql`,
    agentUrl: `https://${lbHost}:${opts.agentPort}`,
    statsUrl,
    get pid() {
      return child.pid;
    },
    get exited() {
      return exited;
    },
    servers,
    async until(pred, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      let last: ServerState[] = [];
      for (;;) {
        if (exited !== null) throw new Error(`HAProxy stopped (${exited}) while waiting for ${what}: ${stderr.trim().slice(-500)}`);
        try {
          last = await servers();
          if (pred(last)) return last;
        } catch {
          // not answering yet
        }
        if (Date.now() > deadline) {
          throw new Error(`HAProxy: no ${what} within ${timeoutMs} ms (servers: ${last.map((s) => `${s.backend}/${s.server} ${s.status}`).join(', ') || 'no answer'})`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (exited === null) child.kill('SIGTERM');
      await gone;
      log.end();
    },
  };
  try {
    await lb.until(() => true, 10_000, 'status page');
  } catch (err) {
    await lb.stop();
    throw err;
  }
  return lb;
}

/** parseStatsCsv reads HAProxy's `show stat` CSV (the status page's ;csv): the servers' rows, not the frontends' and backends'. */
export function parseStatsCsv(csv: string): ServerState[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const head = lines[0]?.replace(/^#\s*/, '').split(',') ?? [];
  const col = (name: string) => head.indexOf(name);
  const [px, sv, status, scur] = [col('pxname'), col('svname'), col('status'), col('scur')];
  if (px < 0 || sv < 0 || status < 0 || scur < 0) throw new Error(`not HAProxy's status CSV: ${lines[0]?.slice(0, 100) ?? ''}`);
  return lines
    .slice(1)
    .map((l) => l.split(','))
    .filter((f) => f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND')
    .map((f) => ({ backend: f[px]!, server: f[sv]!, status: f[status]!, sessions: Number(f[scur] ?? 0) }));
}
