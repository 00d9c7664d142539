/** rowsOf reads the rows of a raw `execute` result, which PGlite and postgres.js shape differently. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown }).rows;
  if (Array.isArray(rows)) return rows as T[];
  throw new Error('unexpected query result shape');
}
