// LIKE patterns built from user text. The searches match lower(column) so that the trigram
// indexes on lower(...) (pg_trgm, drizzle/0000 and the indexes in schema.ts) serve them.

/** escapeLike makes user text match literally inside a LIKE pattern (backslash is LIKE's default escape). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** containsPattern is the LIKE pattern of a case-insensitive substring search: to compare with lower(column). */
export function containsPattern(search: string): string {
  return `%${escapeLike(search.toLowerCase())}%`;
}
