import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase, PGLITE_EXTENSIONS } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { ensureConsoleBuilt, ensureServerBuilt } from './built-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** 'embedded' or 'postgres': which database this run tests against. */
    databaseKind: 'embedded' | 'postgres';
    /** Embedded: a migrated data directory every test file starts from. */
    pgliteSnapshot: string;
    /** Postgres: the admin URL and a migrated template database each test file clones. */
    postgresAdminUrl: string;
    postgresTemplate: string;
    runId: string;
  }
}

/**
 * Migrates one database before any test file runs; each file then starts from a copy of it
 * (a PGlite snapshot, or CREATE DATABASE ... TEMPLATE on a PostgreSQL server).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The start-up and signal tests run the compiled server, as npm start does; the browser tests, the built console.
  ensureServerBuilt();
  ensureConsoleBuilt();
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  project.provide('runId', runId);
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    const template = `certfleet_tpl_${runId}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${template}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${template}`;
    const db = await openDatabase({ dataDir: tmpdir(), databaseUrl: url.toString(), poolSize: 1 });
    await migrate(db.db);
    await db.close();
    project.provide('databaseKind', 'postgres');
    project.provide('postgresAdminUrl', adminUrl);
    project.provide('postgresTemplate', template);
    project.provide('pgliteSnapshot', '');
    return async () => {
      const leftovers = await admin<{ datname: string }[]>`
        select datname from pg_database where datname like ${`certfleet_%_${runId}%`}`;
      for (const { datname } of leftovers) {
        await admin.unsafe(`drop database if exists "${datname}" with (force)`);
      }
      await admin.end();
    };
  }

  const dir = await mkdtemp(join(tmpdir(), 'certfleet-snapshot-'));
  const pg = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
  const db = await openDatabase({ dataDir: dir, pglite: pg });
  await migrate(db.db);
  const dump = await pg.dumpDataDir('none');
  await pg.close();
  const file = join(dir, 'migrated.tar');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('databaseKind', 'embedded');
  project.provide('pgliteSnapshot', file);
  project.provide('postgresAdminUrl', '');
  project.provide('postgresTemplate', '');
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
