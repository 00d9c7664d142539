import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import postgres from 'postgres';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { Role } from '../../src/domain/roles.js';
import { PGLITE_EXTENSIONS } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { startCore, type CoreHandle } from '../../src/main.js';
import { issueToken } from '../../src/server/auth.js';

export interface GraphQLResult<R> {
  status: number;
  data?: R | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

export interface TestCore {
  core: CoreHandle;
  config: Config;
  url: string;
  /** logs holds every line the core logged (JSON, one object each), to check that no secret ever appears in one. */
  logs: string[];
  /** queries holds the SQL text of every query the core ran, to count round trips (less the CRL scheduler's looks). */
  queries: string[];
  token(subject: string, roles: Role[], ttlSeconds?: number): Promise<string>;
  /** gql runs one operation over real HTTP; token null sends none. */
  gql<R, V>(doc: TypedDocumentNode<R, V>, variables: V, token: string | null): Promise<GraphQLResult<R>>;
  /** restart stops the core and starts it again on the same database and DATA_DIR. */
  restart(): Promise<TestCore>;
  close(): Promise<void>;
}

/** databaseKind tells which database this test run uses (DATABASE_URL set: PostgreSQL). */
export function databaseKind(): 'embedded' | 'postgres' {
  return inject('databaseKind');
}

/**
 * freshDatabase makes a migrated database of the test's own (a clone of the run's snapshot or template).
 * persistent (embedded only): no snapshot; the core creates its database in DATA_DIR as on a first `npm start`.
 */
export async function freshDatabase(
  persistent: boolean,
): Promise<{ pglite?: PGlite; databaseUrl?: string; drop(): Promise<void> }> {
  if (databaseKind() === 'postgres') {
    const adminUrl = inject('postgresAdminUrl');
    const name = `certfleet_t_${inject('runId')}_${randomBytes(4).toString('hex')}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}" template "${inject('postgresTemplate')}"`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return {
      databaseUrl: url.toString(),
      drop: async () => {
        const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
        await a.unsafe(`drop database if exists "${name}" with (force)`);
        await a.end();
      },
    };
  }
  if (persistent) return { drop: async () => {} };
  const snapshot = await readFile(inject('pgliteSnapshot'));
  const pglite = await PGlite.create({ loadDataDir: new Blob([snapshot]), extensions: PGLITE_EXTENSIONS });
  return { pglite, drop: async () => {} };
}

/**
 * startTestCore starts a real core (HTTP on a free port) on a database of its own, migrated
 * from the run's snapshot. env adds or overrides settings.
 */
export async function startTestCore(
  opts: {
    env?: Record<string, string>;
    clock?: () => Date;
    persistent?: boolean;
    /** PostgreSQL: the URL the core is given for its fresh database (e.g. through a TCP proxy). */
    routeDatabaseUrl?: (url: string) => string;
    /** A PostgreSQL database the test made itself (and drops itself), instead of a clone of the run's template. */
    databaseUrl?: string;
  } = {},
): Promise<TestCore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'certfleet-test-'));
  const database = opts.databaseUrl
    ? { databaseUrl: opts.databaseUrl, drop: async () => {} }
    : await freshDatabase(opts.persistent === true);
  const coreUrl = database.databaseUrl && opts.routeDatabaseUrl ? opts.routeDatabaseUrl(database.databaseUrl) : database.databaseUrl;
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    AGENT_PORT: '0',
    CORE_NAME: 'core-under-test',
    ...(coreUrl ? { DATABASE_URL: coreUrl } : {}),
    ...opts.env,
  });
  try {
    return await boot(config, database, dataDir, opts.clock);
  } catch (err) {
    // A core that refused to start leaves nothing behind either.
    await database.drop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function boot(
  config: Config,
  database: { pglite?: PGlite; databaseUrl?: string; drop(): Promise<void> },
  dataDir: string,
  clock?: () => Date,
): Promise<TestCore> {
  const logs: string[] = [];
  const log = createLogger('debug', (line) => {
    logs.push(line);
    if ((JSON.parse(line) as { level: string }).level === 'error') process.stderr.write(line + '\n');
  });
  const queries: string[] = [];
  // Not counted: the CRL scheduler's look for pending revocations (getRevocationListHead), which
  // runs on its own timer every quarter CRL window and would land in any count at random.
  const onQuery = (q: string) => void (/\bpending_age_ms\b/.test(q) || queries.push(q));
  const core = await startCore(config, { pglite: database.pglite, log, clock, onQuery });
  const tc: TestCore = {
    core,
    config,
    url: core.url,
    logs,
    queries,
    token: (subject, roles, ttlSeconds = 600) => issueToken(config.auth, { subject, roles, ttlSeconds }),
    async gql(doc, variables, token) {
      const res = await fetch(core.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ query: print(doc), variables }),
      });
      const body = (await res.json()) as Omit<GraphQLResult<never>, 'status'>;
      return { status: res.status, ...body } as never;
    },
    async restart() {
      if (database.pglite) throw new Error('restart needs startTestCore({ persistent: true }) on the embedded database');
      await core.close();
      return boot(config, database, dataDir, clock);
    },
    async close() {
      await core.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return tc;
}

/** expectCode pulls the single error code of a result, for terse assertions. */
export function errorCode(result: GraphQLResult<unknown>): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}
