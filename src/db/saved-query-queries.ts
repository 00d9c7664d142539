import { and, asc, eq, getTableColumns, sql } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { savedQueries } from './schema.js';
import type { AuthStatus } from '../domain/statuses.js';

export type SavedQueryRow = typeof savedQueries.$inferSelect;

/** upsertChartQuery saves the owner's query for a chart item, or refreshes the one saved before. */
export async function upsertChartQuery(
  tx: DbExecutor,
  q: { owner: string; authStatus: AuthStatus; name: string; folder: string[]; at: Date },
): Promise<{ row: SavedQueryRow; inserted: boolean }> {
  const [r] = await tx
    .insert(savedQueries)
    .values({
      owner: q.owner,
      name: q.name,
      folder: q.folder,
      kind: 'CHART',
      authStatus: q.authStatus,
      createdAt: q.at,
      updatedAt: q.at,
    })
    .onConflictDoUpdate({
      target: [savedQueries.owner, savedQueries.authStatus],
      targetWhere: sql`${savedQueries.kind} = 'CHART'`,
      set: { name: q.name, folder: q.folder, updatedAt: q.at },
    })
    .returning({ ...getTableColumns(savedQueries), inserted: sql<boolean>`(xmax = 0)` });
  const { inserted, ...row } = r!;
  return { row, inserted };
}

/** listSavedQueriesOfOwner reads an owner's saved queries, oldest first. */
export async function listSavedQueriesOfOwner(db: DbExecutor, owner: string): Promise<SavedQueryRow[]> {
  return db.select().from(savedQueries).where(eq(savedQueries.owner, owner)).orderBy(asc(savedQueries.id));
}

/** getSavedQueryById reads one saved query, whoever owns it. */
export async function getSavedQueryById(db: DbExecutor, id: number): Promise<SavedQueryRow | undefined> {
  const [row] = await db.select().from(savedQueries).where(eq(savedQueries.id, id));
  return row;
}

/** deleteSavedQueryOfOwner deletes the query if the owner owns it; says whether it did. */
export async function deleteSavedQueryOfOwner(tx: DbExecutor, id: number, owner: string): Promise<boolean> {
  const rows = await tx
    .delete(savedQueries)
    .where(and(eq(savedQueries.id, id), eq(savedQueries.owner, owner)))
    .returning({ id: savedQueries.id });
  return rows.length > 0;
}
