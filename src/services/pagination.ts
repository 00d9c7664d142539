import { badInput } from './app-error.js';

export const MAX_PAGE_SIZE = 500;

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/** checkFirst accepts a page size from 1 to MAX_PAGE_SIZE. */
export function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE} (got ${first})`, 'first');
  }
  return first;
}

/** encodeCursor makes an opaque cursor for the row with this id in a list of this kind. */
export function encodeCursor(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`, 'utf8').toString('base64url');
}

/** decodeCursor reads a cursor made by encodeCursor for the same kind of list. */
export function decodeCursor(kind: string, cursor: string | null | undefined): number | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const text = cursor.length <= 64 && /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^([a-z]+):(\d{1,15})$/.exec(text);
  if (!m || m[1] !== kind) {
    throw badInput('after is not a cursor from this list: pass an endCursor or edge cursor this list returned', 'after');
  }
  return Number(m[2]);
}

/**
 * pageOf turns rows fetched with limit first + 1 into a page: the extra row only says there
 * is a next page.
 */
export function pageOf<R, T>(
  rows: R[],
  first: number,
  kind: string,
  idOf: (row: R) => number,
  toNode: (row: R) => T,
): Page<T> {
  const hasNextPage = rows.length > first;
  const edges = rows.slice(0, first).map((r) => ({ cursor: encodeCursor(kind, idOf(r)), node: toNode(r) }));
  return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}
