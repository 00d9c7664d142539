// What the gateway benchmark reads from the machine besides its own figures: the CPU of the local
// PostgreSQL backends, and which files under src/ were uncommitted when it ran.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * uncommittedSrc names the files under src/ that differ from the commit, with a hash of their
 * content, so a run made while src/ was being edited says which version it measured.
 */
export function uncommittedSrc(): { path: string; sha256: string | null }[] | null {
  try {
    const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out
      .split('\n')
      .filter((l) => l.length > 3)
      .map((l) => l.slice(3).replace(/^.* -> /, ''))
      .map((path) => {
        try {
          return { path, sha256: createHash('sha256').update(readFileSync(join(root, path))).digest('hex').slice(0, 16) };
        } catch {
          return { path, sha256: null }; // deleted
        }
      });
  } catch {
    return null;
  }
}

/**
 * localPostgresDatabase is the database name of a PostgreSQL server on this machine whose backends'
 * CPU postgresCpuMs can read, or null (the embedded database, a remote server, /proc not readable).
 */
export function localPostgresDatabase(kind: 'embedded' | 'postgres', databaseUrl: string | undefined): string | null {
  if (kind !== 'postgres' || !databaseUrl) return null;
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && postgresCpuMs(database) !== null ? database : null;
}

/**
 * explainUsedDatabase is startCore's error, with what to do added when the database named holds the CA of
 * an earlier run (sealed with a key file from another temp DATA_DIR, which a new run cannot open).
 */
export function explainUsedDatabase(err: unknown, databaseUrl: string | undefined): unknown {
  if (!databaseUrl || !(err instanceof Error) || !/CA private key/.test(err.message)) return err;
  return new Error(
    `${err.message}\n(the database already holds the CA of an earlier run, sealed with a key file from another temp DATA_DIR: ` +
      'each run needs an empty database of its own; drop and create it again)',
  );
}

/**
 * postgresCpuMs is the CPU time (user + system) used so far by the PostgreSQL backends connected to
 * `database` on this machine (read from /proc), or null where that cannot be read. Only meaningful
 * when the server runs here. Backends of other databases and the server's background processes
 * (WAL writer, checkpointer) are left out; a backend that exits between two readings loses its time.
 */
let clockTicks: number | undefined;
export function postgresCpuMs(database: string): number | null {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const ticks = clockTicks;
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      let cmdline: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // A backend names itself "postgres: <cluster>: <user> <database> <client> <state>".
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue; // gone meanwhile, or not ours to read
      }
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      if (!cmdline.startsWith('postgres: ') || !cmdline.split(' ').includes(database)) continue;
      const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
      total += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    }
    return (1000 * total) / ticks;
  } catch {
    return null;
  }
}
