import { and, asc, desc, gt, lt, sql, type AnyColumn, type SQL } from 'drizzle-orm';

/**
 * Keyset is how one page of a list ordered by id is read: the rows with an id strictly above
 * afterId and strictly below beforeId (either may be absent), in this order, at most limit of
 * them. A backward page is read in the reverse of its list's order, starting from its cursor, so
 * that the index is walked from the cursor on and never counted past (no OFFSET); the service
 * turns its rows back (services/pagination.ts).
 */
export interface Keyset {
  limit: number;
  afterId?: number;
  beforeId?: number;
  order: 'asc' | 'desc';
}

/** keysetWhere is the id bounds of a keyset on this id column (undefined when it has none). */
export function keysetWhere(id: AnyColumn, k: Keyset): SQL | undefined {
  return and(k.afterId === undefined ? undefined : gt(id, k.afterId), k.beforeId === undefined ? undefined : lt(id, k.beforeId));
}

/** keysetOrder is the ORDER BY of a keyset on this id column. */
export function keysetOrder(id: AnyColumn, k: Keyset): SQL {
  return k.order === 'asc' ? asc(id) : desc(id);
}

/** keysetBoundsSql is keysetWhere for raw SQL: ` and <column> > x and <column> < y`, or nothing. */
export function keysetBoundsSql(column: SQL, k: Keyset): SQL {
  return sql`${k.afterId === undefined ? sql`` : sql` and ${column} > ${k.afterId}`}${
    k.beforeId === undefined ? sql`` : sql` and ${column} < ${k.beforeId}`
  }`;
}
