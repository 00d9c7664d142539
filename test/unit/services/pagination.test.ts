import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/services/app-error.js';
import { MAX_PAGE_SIZE, checkFirst, decodeCursor, encodeCursor, pageOf } from '../../../src/services/pagination.js';

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
  ])('rejects $name with BAD_USER_INPUT naming after', ({ cursor }) => {
    const err = badInputOf(() => decodeCursor('device', cursor));
    expect(err.extensions.argument).toBe('after');
    expect(err.message).toMatch(/^after /);
  });
});

describe('checkFirst', () => {
  it.each([1, 20, MAX_PAGE_SIZE])('accepts %i', (first) => {
    expect(checkFirst(first)).toBe(first);
  });

  it.each([0, -1, MAX_PAGE_SIZE + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %s naming first and the bounds', (first) => {
    const err = badInputOf(() => checkFirst(first));
    expect(err.extensions.argument).toBe('first');
    expect(err.message).toContain('first');
    expect(err.message).toContain(String(MAX_PAGE_SIZE));
  });
});

describe('pageOf', () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: 100 - i }));
  const page = (n: number, first: number) => pageOf(rows(n), first, 'device', (r) => r.id, (r) => ({ name: `d${r.id}` }));

  it('an extra row (first + 1 fetched) means a next page, and is not shown', () => {
    const p = page(4, 3);
    expect(p.edges.map((e) => e.node.name)).toEqual(['d100', 'd99', 'd98']);
    expect(p.pageInfo.hasNextPage).toBe(true);
    expect(p.pageInfo.endCursor).toBe(p.edges[2]!.cursor);
    expect(decodeCursor('device', p.pageInfo.endCursor)).toBe(98);
  });

  it('exactly first rows: no next page, endCursor is the last edge', () => {
    const p = page(3, 3);
    expect(p.edges).toHaveLength(3);
    expect(p.pageInfo).toEqual({ hasNextPage: false, endCursor: p.edges[2]!.cursor });
  });

  it('an empty page has no next page and a null endCursor', () => {
    expect(page(0, 3)).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('every edge cursor decodes back to its own row in the same list kind', () => {
    const p = page(5, 5);
    expect(p.edges.map((e) => decodeCursor('device', e.cursor))).toEqual([100, 99, 98, 97, 96]);
    badInputOf(() => decodeCursor('audit', p.edges[0]!.cursor));
  });
});
