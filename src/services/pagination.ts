import type { Keyset } from '../db/keyset.js';
import { badInput } from './app-error.js';

// The paging of every list the API serves (Relay connections, keyset by id). One way at a time:
// first/after page forward, last/before backward; mixing the two is refused (see checkPage). A
// page's pageInfo is truthful both ways: the way it was read by one extra row, the other way by
// a one-row probe from its cursor (see keysetsOf), so a client can always tell whether there is
// something behind it.

export const MAX_PAGE_SIZE = 500;
/** The page size of a list when the caller names neither first nor last (connectionHistory has its own). */
export const DEFAULT_PAGE_SIZE = 50;

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/** PageArgs are a list's paging arguments as the caller gave them; null or absent is not given. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** PageRequest is a checked PageArgs: which way, how many rows, and from which row on (its cursor's id). */
export interface PageRequest {
  backward: boolean;
  size: number;
  cursorId?: number;
}

/** checkPageSize accepts a page size (first or last) from 1 to MAX_PAGE_SIZE. */
export function checkPageSize(size: number, argument: 'first' | 'last'): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(`${argument} must be between 1 and ${MAX_PAGE_SIZE} (got ${size})`, argument);
  }
  return size;
}

/**
 * checkPage reads a list's paging arguments: first/after page forward, last/before backward,
 * defaultSize rows when neither first nor last is given. Forward and backward arguments together
 * are BAD_USER_INPUT naming them (the Relay spec allows it but discourages it, and no client needs it).
 */
export function checkPage(kind: string, args: PageArgs, defaultSize = DEFAULT_PAGE_SIZE): PageRequest {
  const given = (['first', 'after', 'last', 'before'] as const).filter((a) => args[a] !== null && args[a] !== undefined);
  const forward = given.filter((a) => a === 'first' || a === 'after');
  const backward = given.filter((a) => a === 'last' || a === 'before');
  if (forward.length > 0 && backward.length > 0) {
    throw badInput(
      `${[...forward, ...backward].join(' and ')} cannot be used together: page forward with first and after, or backward with last and before`,
      backward[0],
    );
  }
  if (backward.length > 0) {
    return { backward: true, size: checkPageSize(args.last ?? defaultSize, 'last'), cursorId: decodeCursor(kind, args.before, 'before') };
  }
  return { backward: false, size: checkPageSize(args.first ?? defaultSize, 'first'), cursorId: decodeCursor(kind, args.after, 'after') };
}

/** encodeCursor makes an opaque cursor for the row with this id in a list of this kind. */
export function encodeCursor(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`, 'utf8').toString('base64url');
}

/** decodeCursor reads a cursor made by encodeCursor for the same kind of list; argument names it in the error. */
export function decodeCursor(
  kind: string,
  cursor: string | null | undefined,
  argument: 'after' | 'before' = 'after',
): number | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const text = cursor.length <= 64 && /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^([a-z]+):(\d{1,15})$/.exec(text);
  if (!m || m[1] !== kind) {
    throw badInput(
      `${argument} is not a cursor from this list: pass an edge cursor, startCursor or endCursor this list returned`,
      argument,
    );
  }
  return Number(m[2]);
}

const reverse = (order: 'asc' | 'desc') => (order === 'asc' ? 'desc' : 'asc');

/**
 * keysetsOf says how to read a page of a list whose own order by id is listOrder: rows (size + 1
 * of them, the extra one only says there is more this way; a backward page reads the list in
 * reverse from its cursor), and, when the page starts from a cursor, probe: one row the other
 * way, the cursor's own row included, which says whether there is something behind the page.
 * Both walk the same index from the cursor, so a page costs the same at any depth.
 */
export function keysetsOf(page: PageRequest, listOrder: 'asc' | 'desc'): { rows: Keyset; probe?: Keyset } {
  const order = page.backward ? reverse(listOrder) : listOrder;
  const c = page.cursorId;
  const rows: Keyset = { limit: page.size + 1, order, ...(c === undefined ? {} : order === 'asc' ? { afterId: c } : { beforeId: c }) };
  if (c === undefined) return { rows };
  // Ids are integers: "at or beyond c" the other way is strictly beyond c ∓ 1.
  const probe: Keyset = order === 'asc' ? { limit: 1, order: 'desc', beforeId: c + 1 } : { limit: 1, order: 'asc', afterId: c - 1 };
  return { rows, probe };
}

/**
 * pageOf turns the rows read by keysetsOf(page).rows into a page in the list's own order.
 * behind says whether the probe found a row (false when there was no probe: a first or last page).
 */
export function pageOf<R, T>(
  rows: R[],
  page: PageRequest,
  behind: boolean,
  kind: string,
  idOf: (row: R) => number,
  toNode: (row: R) => T,
): Page<T> {
  const more = rows.length > page.size;
  const shown = rows.slice(0, page.size);
  if (page.backward) shown.reverse();
  const edges = shown.map((r) => ({ cursor: encodeCursor(kind, idOf(r)), node: toNode(r) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.backward ? behind : more,
      hasPreviousPage: page.backward ? more : behind,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** readPage reads a page's rows and its probe (side by side) with the list's one query function. */
export async function readPage<R>(
  page: PageRequest,
  listOrder: 'asc' | 'desc',
  read: (keyset: Keyset) => Promise<R[]>,
): Promise<{ rows: R[]; behind: boolean }> {
  const k = keysetsOf(page, listOrder);
  const [rows, behind] = await Promise.all([read(k.rows), k.probe ? read(k.probe).then((r) => r.length > 0) : false]);
  return { rows, behind };
}
