import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/services/app-error.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  checkPage,
  checkPageSize,
  decodeCursor,
  encodeCursor,
  keysetsOf,
  pageOf,
  readPage,
  type PageRequest,
} from '../../../src/services/pagination.js';
import type { Keyset } from '../../../src/db/keyset.js';

function badInputOf(fn: () => unknown): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe('BAD_USER_INPUT');
  return caught as AppError;
}

describe('cursors', () => {
  it.each([
    { kind: 'device', id: 1 },
    { kind: 'audit', id: 42 },
    { kind: 'attempt', id: 999_999_999_999_999 },
  ])('a $kind cursor for id $id round-trips', ({ kind, id }) => {
    const cursor = encodeCursor(kind, id);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(kind, cursor)).toBe(id);
  });

  it('no cursor means the first page', () => {
    expect(decodeCursor('device', null)).toBeUndefined();
    expect(decodeCursor('device', undefined)).toBeUndefined();
  });

  it.each([
    { name: 'a cursor of another list (audit passed to devices)', cursor: encodeCursor('audit', 5) },
    { name: 'a cursor of another list (attempt passed to devices)', cursor: encodeCursor('attempt', 5) },
    { name: 'garbage', cursor: 'zzz' },
    { name: 'the empty string', cursor: '' },
    { name: 'characters outside base64url', cursor: 'ZGV2aWNlOjE=' },
    { name: 'plain text of the right shape, not encoded', cursor: 'device:1' },
    { name: 'a negative id', cursor: Buffer.from('device:-1').toString('base64url') },
    { name: 'an id of 16 digits', cursor: Buffer.from(`device:${'1'.repeat(16)}`).toString('base64url') },
    { name: 'trailing data', cursor: Buffer.from('device:1:x').toString('base64url') },
    { name: 'an over-long cursor (65 characters)', cursor: encodeCursor('device', 1).padEnd(65, 'A') },
    { name: 'a huge cursor', cursor: 'A'.repeat(100_000) },
  ])('rejects $name with BAD_USER_INPUT naming after, or before when it came as before', ({ cursor }) => {
    const err = badInputOf(() => decodeCursor('device', cursor));
    expect(err.extensions.argument).toBe('after');
    expect(err.message).toMatch(/^after is not a cursor from this list/);
    const back = badInputOf(() => checkPage('device', { last: 5, before: cursor }));
    expect(back.extensions.argument).toBe('before');
    expect(back.message).toMatch(/^before is not a cursor from this list/);
  });

  it('a cursor works both ways: the same cursor pages after and before its row', () => {
    const c = encodeCursor('device', 42);
    expect(checkPage('device', { after: c })).toEqual({ backward: false, size: DEFAULT_PAGE_SIZE, cursorId: 42 });
    expect(checkPage('device', { before: c })).toEqual({ backward: true, size: DEFAULT_PAGE_SIZE, cursorId: 42 });
  });
});


describe('checkPageSize', () => {
  it.each([1, 20, MAX_PAGE_SIZE])('accepts %i', (size) => {
    expect(checkPageSize(size, 'first')).toBe(size);
    expect(checkPageSize(size, 'last')).toBe(size);
  });

  it.each([0, -1, MAX_PAGE_SIZE + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %s naming the argument and the bounds', (size) => {
    for (const argument of ['first', 'last'] as const) {
      const err = badInputOf(() => checkPageSize(size, argument));
      expect(err.extensions.argument).toBe(argument);
      expect(err.message).toMatch(new RegExp(`^${argument} must be between 1 and ${MAX_PAGE_SIZE} \\(got `));
    }
  });
});

describe('checkPage: first/after page forward, last/before backward, never both', () => {
  const c = (id: number) => encodeCursor('device', id);

  it.each<{ name: string; args: Parameters<typeof checkPage>[1]; page: PageRequest }>([
    { name: 'nothing: the first page of the default size', args: {}, page: { backward: false, size: DEFAULT_PAGE_SIZE, cursorId: undefined } },
    { name: 'nulls count as not given', args: { first: null, after: null, last: null, before: null }, page: { backward: false, size: DEFAULT_PAGE_SIZE, cursorId: undefined } },
    { name: 'first alone', args: { first: 7 }, page: { backward: false, size: 7, cursorId: undefined } },
    { name: 'after alone: the default size', args: { after: c(3) }, page: { backward: false, size: DEFAULT_PAGE_SIZE, cursorId: 3 } },
    { name: 'first and after', args: { first: 7, after: c(3) }, page: { backward: false, size: 7, cursorId: 3 } },
    { name: 'last alone: the end of the list', args: { last: 7 }, page: { backward: true, size: 7, cursorId: undefined } },
    { name: 'before alone: the default size', args: { before: c(3) }, page: { backward: true, size: DEFAULT_PAGE_SIZE, cursorId: 3 } },
    { name: 'last and before', args: { last: MAX_PAGE_SIZE, before: c(3) }, page: { backward: true, size: MAX_PAGE_SIZE, cursorId: 3 } },
  ])('$name', ({ args, page }) => {
    expect(checkPage('device', args)).toEqual(page);
  });

  it('takes the default size its list asks for', () => {
    expect(checkPage('attempt', {}, 20).size).toBe(20);
    expect(checkPage('attempt', { before: encodeCursor('attempt', 1) }, 20).size).toBe(20);
  });

  it.each([
    { args: { first: 5, last: 5 }, named: 'first and last', argument: 'last' },
    { args: { first: 5, before: c(9) }, named: 'first and before', argument: 'before' },
    { args: { after: c(1), last: 5 }, named: 'after and last', argument: 'last' },
    { args: { after: c(1), before: c(9) }, named: 'after and before', argument: 'before' },
    { args: { first: 5, after: c(1), last: 5, before: c(9) }, named: 'first and after and last and before', argument: 'last' },
  ])('mixing $named is BAD_USER_INPUT naming them', ({ args, named, argument }) => {
    const err = badInputOf(() => checkPage('device', args));
    expect(err.message).toBe(`${named} cannot be used together: page forward with first and after, or backward with last and before`);
    expect(err.extensions.argument).toBe(argument);
  });

  it('checks the size of last with the bounds of first', () => {
    expect(badInputOf(() => checkPage('device', { last: MAX_PAGE_SIZE + 1 })).extensions.argument).toBe('last');
    expect(badInputOf(() => checkPage('device', { last: 0, before: c(1) })).message).toMatch(/^last must be between 1 and/);
  });

  it('checks the cursor against its list whichever way', () => {
    expect(badInputOf(() => checkPage('device', { before: encodeCursor('audit', 1) })).extensions.argument).toBe('before');
    expect(badInputOf(() => checkPage('device', { after: encodeCursor('audit', 1) })).extensions.argument).toBe('after');
  });
});

describe('keysetsOf: read from the cursor on, the reverse way for a backward page', () => {
  const page = (backward: boolean, cursorId?: number): PageRequest => ({ backward, size: 10, cursorId });

  it.each<{ name: string; page: PageRequest; listOrder: 'asc' | 'desc'; rows: Keyset; probe?: Keyset }>([
    { name: 'ascending list, first page', page: page(false), listOrder: 'asc', rows: { limit: 11, order: 'asc' } },
    { name: 'ascending list, last page', page: page(true), listOrder: 'asc', rows: { limit: 11, order: 'desc' } },
    {
      name: 'ascending list, after 40: ids above 40 upwards; probe: 40 or below',
      page: page(false, 40),
      listOrder: 'asc',
      rows: { limit: 11, order: 'asc', afterId: 40 },
      probe: { limit: 1, order: 'desc', beforeId: 41 },
    },
    {
      name: 'ascending list, before 40: ids below 40 downwards; probe: 40 or above',
      page: page(true, 40),
      listOrder: 'asc',
      rows: { limit: 11, order: 'desc', beforeId: 40 },
      probe: { limit: 1, order: 'asc', afterId: 39 },
    },
    {
      name: 'descending list (newest first), after 40: ids below 40 downwards; probe: 40 or above',
      page: page(false, 40),
      listOrder: 'desc',
      rows: { limit: 11, order: 'desc', beforeId: 40 },
      probe: { limit: 1, order: 'asc', afterId: 39 },
    },
    {
      name: 'descending list, before 40: ids above 40 upwards; probe: 40 or below',
      page: page(true, 40),
      listOrder: 'desc',
      rows: { limit: 11, order: 'asc', afterId: 40 },
      probe: { limit: 1, order: 'desc', beforeId: 41 },
    },
  ])('$name', ({ page: p, listOrder, rows, probe }) => {
    expect(keysetsOf(p, listOrder)).toEqual(probe ? { rows, probe } : { rows });
  });
});

describe('pageOf', () => {
  const ids = (from: number, to: number) => {
    const out: { id: number }[] = [];
    for (let i = from; from <= to ? i <= to : i >= to; i += from <= to ? 1 : -1) out.push({ id: i });
    return out;
  };
  const of = (rows: { id: number }[], p: PageRequest, behind: boolean) =>
    pageOf(rows, p, behind, 'device', (r) => r.id, (r) => ({ name: `d${r.id}` }));
  const names = (p: ReturnType<typeof of>) => p.edges.map((e) => e.node.name);

  it('forward: an extra row (size + 1 read) means a next page and is not shown; the probe tells the previous page', () => {
    const p = of(ids(11, 14), { backward: false, size: 3, cursorId: 10 }, true);
    expect(names(p)).toEqual(['d11', 'd12', 'd13']);
    expect(p.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true, startCursor: p.edges[0]!.cursor, endCursor: p.edges[2]!.cursor });
    expect(decodeCursor('device', p.pageInfo.startCursor)).toBe(11);
    expect(decodeCursor('device', p.pageInfo.endCursor)).toBe(13);
  });

  it('forward, exactly size rows and nothing behind: neither way has more', () => {
    const p = of(ids(1, 3), { backward: false, size: 3 }, false);
    expect(p.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it('backward: rows read in reverse are turned back to the list order; the extra row means a previous page', () => {
    const p = of(ids(39, 36), { backward: true, size: 3, cursorId: 40 }, true);
    expect(names(p)).toEqual(['d37', 'd38', 'd39']);
    expect(p.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true, startCursor: p.edges[0]!.cursor, endCursor: p.edges[2]!.cursor });
    expect(decodeCursor('device', p.pageInfo.startCursor)).toBe(37);
  });

  it('backward to the start of the list: no previous page; the probe tells the next page', () => {
    const p = of(ids(2, 1), { backward: true, size: 3, cursorId: 3 }, true);
    expect(names(p)).toEqual(['d1', 'd2']);
    expect(p.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it('an empty page has null cursors either way', () => {
    expect(of([], { backward: false, size: 3 }, false).pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(of([], { backward: true, size: 3, cursorId: 1 }, true).pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('every edge cursor decodes back to its own row in the same list kind', () => {
    const p = of(ids(100, 96), { backward: false, size: 5 }, false);
    expect(p.edges.map((e) => decodeCursor('device', e.cursor))).toEqual([100, 99, 98, 97, 96]);
    badInputOf(() => decodeCursor('audit', p.edges[0]!.cursor));
  });
});

describe('readPage', () => {
  it('reads the rows, and the probe only when the page starts from a cursor', async () => {
    const asked: Keyset[] = [];
    const read = async (k: Keyset) => (asked.push(k), k.limit === 1 ? [{ id: 0 }] : [{ id: 1 }, { id: 2 }]);
    expect(await readPage({ backward: false, size: 5 }, 'asc', read)).toEqual({ rows: [{ id: 1 }, { id: 2 }], behind: false });
    expect(asked).toHaveLength(1);
    asked.length = 0;
    expect(await readPage({ backward: false, size: 5, cursorId: 1 }, 'asc', read)).toMatchObject({ behind: true });
    expect(asked).toEqual([{ limit: 6, order: 'asc', afterId: 1 }, { limit: 1, order: 'desc', beforeId: 2 }]);
  });

  it('behind is false when the probe finds nothing', async () => {
    const read = async (k: Keyset) => (k.limit === 1 ? [] : [{ id: 5 }]);
    expect(await readPage({ backward: true, size: 5, cursorId: 9 }, 'asc', read)).toEqual({ rows: [{ id: 5 }], behind: false });
  });
});
