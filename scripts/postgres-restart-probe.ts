// npx tsx scripts/postgres-restart-probe.ts — the driver alone across a PostgreSQL restart (see RELIABILITY.md).
//
// No certfleet code runs here: a postgres.js pool (as src/db/client.ts opens it: 10 connections,
// connect_timeout 10) with 30 writers in short transactions, and `pg_ctl restart -m fast` of a
// private cluster (src/faults/private-postgres.ts) under it. It counts the exceptions thrown where
// no caller can catch them (they end a process that has no uncaughtException handler, as a core
// has none) and the transactions that, from 2 s after the server is back, wait more than 2 s or
// fail, and says when the LISTEN connection (the replicas' event bus) was back. Exit 0 when nothing
// was uncaught and nothing was slow or failed.
import postgres from 'postgres';
import { findPostgresBinaries, startPrivatePostgres } from '../src/faults/private-postgres.js';

const WRITERS = 30;
const BEFORE_MS = 3000;
const AFTER_MS = 40_000;

const uncaught: string[] = [];
// Counted here so the probe can finish and report; a core would exit on the first one.
process.on('uncaughtException', (err) => uncaught.push(`${err.name}: ${err.message} ${err.stack?.split('\n')[1]?.trim() ?? ''}`));

const cluster = await startPrivatePostgres({ binDir: findPostgresBinaries(), log: (l) => process.stderr.write(`${l}\n`) });
let code = 1;
try {
  const url = await cluster.createDatabase('probe');
  const sql = postgres(url, { max: 10, connect_timeout: 10, onnotice: () => {} });
  await sql`create table t (id serial primary key, v text)`;
  const t0 = Date.now();
  // As the event bus does (src/events/postgres-bus.ts): onlisten runs after every (re)connection of the listener.
  const listens: number[] = [];
  await sql.listen('probe', () => {}, () => listens.push(Date.now() - t0));
  const done: { at: number; ms: number; error?: string }[] = [];
  let stop = false;
  const writer = async () => {
    while (!stop) {
      const at = Date.now() - t0;
      try {
        await sql.begin(async (tx) => {
          await tx`insert into t (v) values (${'x'})`;
          await tx`select count(*) from t`;
        });
        done.push({ at, ms: Date.now() - t0 - at });
      } catch (err) {
        done.push({ at, ms: Date.now() - t0 - at, error: (err as { code?: string }).code ?? String(err) });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const writers = Array.from({ length: WRITERS }, writer);
  await new Promise((r) => setTimeout(r, BEFORE_MS));
  const restartAt = Date.now() - t0;
  await cluster.restart('fast');
  const backAt = Date.now() - t0;
  await new Promise((r) => setTimeout(r, AFTER_MS));
  stop = true;
  // A writer stuck on a broken connection may not come back at all.
  await Promise.race([Promise.all(writers), new Promise((r) => setTimeout(r, 15_000))]);
  const late = done.filter((d) => d.at > backAt + 2000 && (d.ms > 2000 || d.error));
  console.log(`pg_ctl restart -m fast at +${restartAt} ms, back at +${backAt} ms; ${done.length} transactions`);
  const relisten = listens.find((at) => at > restartAt);
  console.log(`LISTEN re-established: ${relisten === undefined ? 'not within the run' : `${relisten - backAt} ms after the server was back`}`);
  console.log(`uncaught exceptions: ${uncaught.length}${uncaught.length ? ` (${[...new Set(uncaught)].join('; ')})` : ''}`);
  console.log(`from 2 s after the restart: ${late.length} transaction(s) slower than 2 s or failed`);
  for (const d of late.slice(0, 10)) console.log(`  started +${d.at} ms, took ${d.ms} ms${d.error ? `, ${d.error}` : ''}`);
  code = uncaught.length === 0 && late.length === 0 ? 0 : 1;
  await sql.end({ timeout: 0 });
} finally {
  await cluster.remove();
}
process.exit(code);
