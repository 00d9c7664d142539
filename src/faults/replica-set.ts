// Replicas of one core as an operator runs them: separate processes, each with a DATA_DIR of its own,
// sharing one PostgreSQL database, the CA (kept in that database, its key encrypted with
// CA_KEY_PASSPHRASE, which every replica is given) and the token signing key (a copy of one file).
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateSigningKey } from '../server/auth.js';
import { createCoreProcess, type CoreProcess } from './core-process.js';
import { freePort } from './ports.js';

export interface ReplicaSetOptions {
  databaseUrl: string;
  /** Each replica's DATA_DIR is dir/<name>, its log dir/<name>.log. */
  dir: string;
  passphrase: string;
  /** Settings every replica gets besides DATABASE_URL, DATA_DIR and CA_KEY_PASSPHRASE. */
  env?: Record<string, string>;
  /** Settings of one replica each (a port of its own for a listener, say), by position. */
  envOfReplica?: Record<string, string>[];
  names?: string[];
  /** Each replica's ports; free ones when absent. */
  ports?: { port: number; agentPort: number }[];
}

/** ReplicaSet is the replicas, created but not started (a caller may track them first). */
export interface ReplicaSet {
  replicas: CoreProcess[];
  dataDirs: string[];
  /**
   * start starts the first replica (which creates the CA on a new database, and migrates it), then
   * the others together; it resolves once every one answers /readyz and serves the CA on its gateway.
   */
  start(onReady?: (r: CoreProcess, ms: number) => void): Promise<void>;
  stop(): Promise<void>;
}

/** createReplicaSet prepares each replica's DATA_DIR (the token key made once and copied, as onto several machines) and process. */
export async function createReplicaSet(opts: ReplicaSetOptions): Promise<ReplicaSet> {
  const names = opts.names ?? ['replica-a', 'replica-b'];
  const dataDirs = names.map((n) => join(opts.dir, n));
  for (const d of dataDirs) await mkdir(d, { recursive: true, mode: 0o700 });
  // Made before any replica starts, so that each one verifies the tokens the others accept.
  await loadOrCreateSigningKey(dataDirs[0]!);
  for (const d of dataDirs.slice(1)) {
    if (!existsSync(join(d, 'jwt-signing-key.pem'))) await copyFile(join(dataDirs[0]!, 'jwt-signing-key.pem'), join(d, 'jwt-signing-key.pem'));
  }
  const replicas: CoreProcess[] = [];
  for (const [i, name] of names.entries()) {
    const ports = opts.ports?.[i] ?? { port: await freePort(), agentPort: await freePort() };
    replicas.push(
      createCoreProcess({
        name,
        port: ports.port,
        agentPort: ports.agentPort,
        logFile: join(opts.dir, `${name}.log`),
        env: { DATABASE_URL: opts.databaseUrl, DATA_DIR: dataDirs[i]!, CA_KEY_PASSPHRASE: opts.passphrase, ...opts.env, ...opts.envOfReplica?.[i] },
      }),
    );
  }
  return {
    replicas,
    dataDirs,
    async start(onReady) {
      // Each start is awaited on its own: `onReady?.(r, await r.start())` would skip the start without onReady.
      const started = async (r: CoreProcess) => {
        const ms = await r.start();
        onReady?.(r, ms);
      };
      const [first, ...others] = replicas;
      await started(first!);
      await Promise.all(others.map(started));
    },
    async stop() {
      await Promise.all(replicas.map((r) => r.stop()));
    },
  };
}
