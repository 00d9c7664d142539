// A throwaway PostgreSQL cluster of the fault run's own: the shared server on 5432 is never touched.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withDatabase } from './database.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** PrivateClusterError means no private cluster could be made or driven; its message says why, in one line. */
export class PrivateClusterError extends Error {
  override name = 'PrivateClusterError';
}

export type RestartMode = 'fast' | 'immediate';

/** PrivatePostgres is a running private cluster: trust auth on 127.0.0.1 only, data in a temporary directory. */
export interface PrivatePostgres {
  port: number;
  /** The temporary directory holding the cluster, its log and the socket (removed by remove()). */
  dir: string;
  logFile: string;
  binDir: string;
  /** createDatabase makes an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** restart is `pg_ctl restart -m <mode>`; it resolves once the server accepts connections again. */
  restart(mode: RestartMode): Promise<void>;
  /** remove stops the cluster (if running) and deletes its directory; safe to call twice. */
  remove(): Promise<void>;
  /** removeSync is remove for a process that is exiting and can no longer wait. */
  removeSync(): void;
}

/** findPostgresBinaries picks the newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl (or the given directory). */
export function findPostgresBinaries(given?: string): string {
  const usable = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'postgres'));
  if (given !== undefined) {
    if (!usable(given)) throw new PrivateClusterError(`--pg-bin ${given} does not hold initdb, pg_ctl and postgres`);
    return given;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+(\.\d+)?$/.test(v) && usable(join(root, v, 'bin')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new PrivateClusterError(
      'no PostgreSQL server binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin: the fault run needs a private ' +
        'cluster of its own (install the postgresql package, or give --pg-bin DIR); it never uses the shared server',
    );
  }
  return join(root, versions[0]!, 'bin');
}

/**
 * startPrivatePostgres makes a cluster with initdb in a new temporary directory and starts it on a
 * free port, listening on 127.0.0.1 only with trust auth and its socket in that directory. As root
 * it runs as the `postgres` OS user (initdb refuses root), which then owns the directory.
 */
export async function startPrivatePostgres(opts: { binDir: string; log?: (line: string) => void }): Promise<PrivatePostgres> {
  const { binDir } = opts;
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | null = null;
  if (asRoot) {
    try {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      owner = { uid, gid };
    } catch {
      throw new PrivateClusterError('running as root, and there is no `postgres` OS user to run the private cluster as (initdb refuses root)');
    }
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));
  if (asRoot && !runuser) throw new PrivateClusterError('running as root without runuser(1): cannot start the private cluster as the postgres user');
  // As root: runuser -u postgres -- <binary> <args>; otherwise the binary itself.
  const pg = (binary: string, args: string[], timeoutMs = 120_000) =>
    asRoot
      ? run(runuser!, ['-u', 'postgres', '--', join(binDir, binary), ...args], { timeout: timeoutMs })
      : run(join(binDir, binary), args, { timeout: timeoutMs });
  const pgSync = (binary: string, args: string[]) =>
    asRoot
      ? execFileSync(runuser!, ['-u', 'postgres', '--', join(binDir, binary), ...args], { stdio: 'ignore', timeout: 30_000 })
      : execFileSync(join(binDir, binary), args, { stdio: 'ignore', timeout: 30_000 });

  const dir = await mkdtemp(join(tmpdir(), 'certfleet-faults-pg-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'postgres.log');
  let running = false;
  let removed = false;
  const removeDir = () => rmSync(dir, { recursive: true, force: true });

  try {
    await mkdir(socketDir);
    await chmod(dir, 0o700);
    if (owner) {
      await chown(dir, owner.uid, owner.gid);
      await chown(socketDir, owner.uid, owner.gid);
    }
    const port = await freePort();
    opts.log?.(`private PostgreSQL: initdb in ${dataDir} (${binDir}${asRoot ? ', as the postgres user' : ''})`);
    try {
      // --no-sync only skips flushing the new cluster's files at creation; the server itself runs with its defaults.
      await pg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    } catch (err) {
      throw new PrivateClusterError(`initdb failed: ${oneLine(err)}`);
    }
    await appendFile(
      join(dataDir, 'postgresql.conf'),
      `\n# certfleet fault run: a private cluster on loopback only\nport = ${port}\nlisten_addresses = '127.0.0.1'\n` +
        `unix_socket_directories = '${socketDir}'\nmax_connections = 200\n`,
    );
    const pgCtl = (args: string[]) => pg('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', ...args]);
    try {
      await pgCtl(['start']);
    } catch (err) {
      throw new PrivateClusterError(`pg_ctl start failed: ${oneLine(err)} (log: ${logFile})`);
    }
    running = true;
    opts.log?.(`private PostgreSQL: listening on 127.0.0.1:${port}`);

    const handle: PrivatePostgres = {
      port,
      dir,
      logFile,
      binDir,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new RangeError(`not a plain database name: ${name}`);
        await withDatabase(`postgres://postgres@127.0.0.1:${port}/postgres`, 60_000, (sql) => sql`create database ${sql(name)}`);
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      async restart(mode) {
        try {
          await pgCtl(['-m', mode, 'restart']);
        } catch (err) {
          throw new PrivateClusterError(`pg_ctl restart -m ${mode} failed: ${oneLine(err)} (log: ${logFile})`);
        }
      },
      async remove() {
        if (removed) return;
        removed = true;
        if (running) {
          running = false;
          await pg('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']).catch(() =>
            pg('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => {}),
          );
        }
        removeDir();
      },
      removeSync() {
        if (removed) return;
        removed = true;
        if (running) {
          running = false;
          try {
            pgSync('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '20', 'stop']);
          } catch {
            // Already stopped, or it will not stop: the directory goes either way.
          }
        }
        removeDir();
      },
    };
    return handle;
  } catch (err) {
    if (running) await pg('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    removeDir();
    throw err;
  }
}

function oneLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  const text = (e.stderr?.trim() || e.message || String(err)).split('\n').filter((l) => l.trim() !== '');
  return text.slice(-2).join(' / ');
}
