import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditLogDocument,
  CreateChartQueryDocument,
  DeleteSavedQueryDocument,
  DeviceDocument,
  DevicesDocument,
  EnableSecurityDocument,
  RegisterDevicesDocument,
  SavedQueryDocument,
  SecuritySettingsDocument,
  type AuthenticationStatus,
  type DeviceInput,
} from '../generated/graphql.js';
import { seed } from '../support/seed.js';
import { errorCode, startTestCore, type GraphQLResult, type TestCore } from '../support/test-core.js';
import { parseLogs } from '../support/logs.js';

/** untyped wraps an operation codegen cannot type (it is invalid on purpose). */
const untyped = (text: string) => parse(text) as TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>;

/** expectError checks the one error a bad request must get: its code, a message saying what was wrong, never a 500. */
function expectError(res: GraphQLResult<unknown>, code: 'BAD_USER_INPUT' | 'NOT_FOUND', message: RegExp | string): void {
  expect(res.status).not.toBe(500);
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.errors![0]!.extensions?.code).toBe(code);
  if (typeof message === 'string') expect(res.errors![0]!.message).toBe(message);
  else expect(res.errors![0]!.message).toMatch(message);
}

describe('bad input is refused with BAD_USER_INPUT or NOT_FOUND, never a 500', () => {
  let tc: TestCore;
  let admin: string;
  let deviceId: string;
  let queryId: string;
  const cursors = { device: '', audit: '', attempt: '' };

  beforeAll(async () => {
    tc = await startTestCore();
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
    await seed(tc).devices([
      { name: 'WS-BAD-1', agentId: 'bad-1', agentVersion: '2024.1' },
      { name: 'WS-BAD-2', agentId: 'bad-2', agentVersion: '2024.1' },
    ]);
    await seed(tc).record('bad-1', 'noCertificate');
    await seed(tc).record('bad-1', 'succeeded');
    const query = await tc.gql(CreateChartQueryDocument, { status: 'NO_AUTHENTICATION_INFO' }, admin);
    queryId = query.data!.createChartQuery.id;

    const devices = await tc.gql(DevicesDocument, { first: 1, filter: { search: 'bad-1' } }, admin);
    deviceId = devices.data!.devices.edges[0]!.node.id;
    cursors.device = devices.data!.devices.pageInfo.endCursor!;
    cursors.audit = (await tc.gql(AuditLogDocument, { first: 1 }, admin)).data!.auditLog.pageInfo.endCursor!;
    const history = await tc.gql(DeviceDocument, { id: deviceId, historyFirst: 1 }, admin);
    expect(history.data!.device!.connectionHistory.pageInfo.hasNextPage).toBe(true);
    cursors.attempt = history.data!.device!.connectionHistory.pageInfo.endCursor!;
  });
  afterAll(async () => tc?.close());

  /** The four paged lists, each with a cursor from some other list. */
  const lists = [
    {
      list: 'devices',
      foreign: () => cursors.audit,
      page: async (first?: number, after?: string) => {
        const res = await tc.gql(DevicesDocument, { first, after }, admin);
        return { res, endCursor: res.data?.devices.pageInfo.endCursor };
      },
    },
    {
      list: 'auditLog',
      foreign: () => cursors.device,
      page: async (first?: number, after?: string) => {
        const res = await tc.gql(AuditLogDocument, { first, after }, admin);
        return { res, endCursor: res.data?.auditLog.pageInfo.endCursor };
      },
    },
    {
      list: 'connectionHistory',
      foreign: () => cursors.audit,
      page: async (first?: number, after?: string) => {
        const res = await tc.gql(DeviceDocument, { id: deviceId, historyFirst: first, historyAfter: after }, admin);
        return { res, endCursor: res.data?.device?.connectionHistory.pageInfo.endCursor };
      },
    },
    {
      list: 'savedQuery.devices',
      foreign: () => cursors.attempt,
      page: async (first?: number, after?: string) => {
        const res = await tc.gql(SavedQueryDocument, { id: queryId, first, after }, admin);
        return { res, endCursor: res.data?.savedQuery?.devices.pageInfo.endCursor };
      },
    },
  ];

  describe.each(lists)('paging $list', ({ page, foreign }) => {
    it('answers good pages: first 1 and 500, and the page after its own endCursor', async () => {
      expect((await page(500)).res.errors).toBeUndefined();
      const one = await page(1);
      expect(one.res.errors).toBeUndefined();
      expect(one.endCursor).toEqual(expect.any(String));
      expect((await page(1, one.endCursor!)).res.errors).toBeUndefined();
    });

    it.each([0, -1, 501])('first %i is BAD_USER_INPUT naming first and its bounds', async (first) => {
      expectError((await page(first)).res, 'BAD_USER_INPUT', `first must be between 1 and 500 (got ${first})`);
    });

    it.each([1.5, 2 ** 31])('first %d (not a GraphQL Int) is BAD_USER_INPUT naming the variable', async (first) => {
      // The operation's variable is $first, or $historyFirst for connectionHistory.
      expectError((await page(first)).res, 'BAD_USER_INPUT', /[Ff]irst" got invalid value/);
    });

    it.each([
      { name: 'garbage "zzz"', after: () => 'zzz' },
      { name: 'the empty string', after: () => '' },
      { name: 'a cursor from another list', after: foreign },
      { name: 'a 10 kB string', after: () => 'A'.repeat(10_000) },
    ])('after = $name is BAD_USER_INPUT', async ({ after }) => {
      expectError((await page(5, after())).res, 'BAD_USER_INPUT', /^after is not a cursor from this list/);
    });
  });

  describe('ids', () => {
    const byId = [
      { op: 'device', what: 'device', run: (id: string) => tc.gql(DeviceDocument, { id }, admin) },
      { op: 'savedQuery', what: 'saved query', run: (id: string) => tc.gql(SavedQueryDocument, { id }, admin) },
      { op: 'deleteSavedQuery', what: 'saved query', run: (id: string) => tc.gql(DeleteSavedQueryDocument, { id }, admin) },
    ];

    it.each(byId)('$op: an unknown id ("999999") is NOT_FOUND, naming the kind and the id', async ({ what, run }) => {
      const res = await run('999999');
      expectError(res, 'NOT_FOUND', `${what} "999999" not found`);
      expect(res.errors![0]!.extensions?.id).toBe('999999');
    });

    it.each(byId.flatMap(({ op, run }) => ['abc', '0', '-1', '1.0', ' 1', '1'.repeat(16), ''].map((id) => ({ op, id, run }))))(
      '$op: an id $id that no API id looks like is BAD_USER_INPUT, quoting it',
      async ({ id, run }) => {
        expectError(await run(id), 'BAD_USER_INPUT', `id must be an id returned by the API (got ${JSON.stringify(id)})`);
      },
    );

    it("another user's saved query is NOT_FOUND, as if it did not exist", async () => {
      const bob = await tc.token('bob', ['SECURITY_ADMIN']);
      expectError(await tc.gql(SavedQueryDocument, { id: queryId }, bob), 'NOT_FOUND', `saved query "${queryId}" not found`);
      expectError(await tc.gql(DeleteSavedQueryDocument, { id: queryId }, bob), 'NOT_FOUND', `saved query "${queryId}" not found`);
      expect((await tc.gql(SavedQueryDocument, { id: queryId }, admin)).data!.savedQuery!.id).toBe(queryId);
    });
  });

  describe('strings', () => {
    it.each([
      {
        name: 'a device name of 256 characters',
        run: () => tc.gql(RegisterDevicesDocument, { devices: [{ name: 'n'.repeat(256) }] }, admin),
        message: 'devices[0].name is longer than 255 characters (got 256)',
      },
      {
        name: 'an agentId of 129 characters',
        run: () => tc.gql(RegisterDevicesDocument, { devices: [{ name: 'WS-LONG-ID', agentId: 'a'.repeat(129) }] }, admin),
        message: /^devices\[0\]\.agentId must be 1 to 128 /,
      },
      {
        name: 'a search of 256 characters',
        run: () => tc.gql(DevicesDocument, { filter: { search: 's'.repeat(256) } }, admin),
        message: 'filter.search is longer than 255 characters (got 256)',
      },
      {
        name: 'a search with a control character',
        run: () => tc.gql(DevicesDocument, { filter: { search: 'ws\u0000-1' } }, admin),
        message: 'filter.search must not contain control characters',
      },
      {
        name: 'an agentId with a space',
        run: () => tc.gql(RegisterDevicesDocument, { devices: [{ name: 'WS-SPACE', agentId: 'agent 1' }] }, admin),
        message: /^devices\[0\]\.agentId must be /,
      },
    ])('$name is BAD_USER_INPUT', async ({ run, message }) => {
      expectError(await run(), 'BAD_USER_INPUT', message);
    });

    it('the longest allowed search (255) and agentId (128) and name (255) are accepted', async () => {
      expect((await tc.gql(DevicesDocument, { filter: { search: 's'.repeat(255) } }, admin)).errors).toBeUndefined();
      const res = await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'n'.repeat(255), agentId: 'a'.repeat(128) }] }, admin);
      expect(res.errors).toBeUndefined();
      expect(res.data!.registerDevices[0]).toMatchObject({ name: 'n'.repeat(255), agentId: 'a'.repeat(128) });
    });
  });

  describe('enums', () => {
    it.each([
      { name: 'an inline literal in a filter', text: '{ devices(filter: { authStatus: [NOPE] }) { totalCount } }' },
      { name: 'an inline literal argument', text: 'mutation { createChartQuery(status: NOPE) { id } }' },
      { name: 'a string where an enum is expected', text: '{ devices(filter: { authStatus: ["AUTHENTICATION_FAILED"] }) { totalCount } }' },
    ])('an unknown enum value as $name is BAD_USER_INPUT naming it', async ({ text }) => {
      const res = await tc.gql(untyped(text), {}, admin);
      expectError(res, 'BAD_USER_INPUT', /NOPE|AUTHENTICATION_FAILED/);
      expect(res.data ?? undefined).toBeUndefined();
    });

    it('an unknown enum value in variables is BAD_USER_INPUT naming it', async () => {
      const nope = 'NOPE' as AuthenticationStatus;
      const inFilter = await tc.gql(DevicesDocument, { filter: { authStatus: ['AUTHENTICATION_FAILED', nope] } }, admin);
      expectError(inFilter, 'BAD_USER_INPUT', /NOPE/);
      const asArgument = await tc.gql(CreateChartQueryDocument, { status: nope }, admin);
      expectError(asArgument, 'BAD_USER_INPUT', /NOPE/);
    });
  });

  describe('nothing is written by a refused mutation', () => {
    /** written is what a refused mutation must leave as it was. */
    async function written() {
      const [devices, audit, settings] = await Promise.all([
        tc.gql(DevicesDocument, { first: 500 }, admin),
        tc.gql(AuditLogDocument, { first: 500 }, admin),
        tc.gql(SecuritySettingsDocument, {}, admin),
      ]);
      return {
        totalCount: devices.data!.devices.totalCount,
        devices: devices.data!.devices.edges.map((e) => [e.node.id, e.node.name, e.node.agentId, e.node.agentVersion]),
        audit: audit.data!.auditLog.edges.map((e) => e.node.id),
        securityEnabled: settings.data!.securitySettings.clientCertificateSecurityEnabled,
      };
    }

    const good: DeviceInput[] = [
      { name: 'WS-BATCH-1', agentId: 'batch-1', agentVersion: '2024.1' },
      // An update of a known device: it must not be applied either.
      { name: 'WS-BAD-2-RENAMED', agentId: 'bad-2', agentVersion: '2025.1' },
    ];

    it.each<{ name: string; devices: DeviceInput[]; message: RegExp }>([
      {
        name: 'a bad agentVersion in the last item',
        devices: [...good, { name: 'WS-BATCH-3', agentId: 'batch-3', agentVersion: 'abc' }],
        message: /^devices\[2\]\.agentVersion must look like 2020\.1 or 9\.60 .*"abc"/,
      },
      {
        name: 'a duplicate agentId in the batch',
        devices: [...good, { name: 'WS-BATCH-1-AGAIN', agentId: 'batch-1' }],
        message: /^devices\[2\] repeats devices\[0\] \(same agentId\)/,
      },
      {
        name: 'a duplicate agentId that differs only by surrounding spaces',
        devices: [...good, { name: 'WS-BATCH-1-SPACED', agentId: '  batch-1 ' }],
        message: /^devices\[2\] repeats devices\[0\]/,
      },
      {
        name: 'a duplicate name among devices without an agent (any case)',
        devices: [...good, { name: 'PRINTER-7' }, { name: 'printer-7' }],
        message: /^devices\[3\] repeats devices\[2\] \(same name, no agentId\)/,
      },
      {
        name: 'an empty name',
        devices: [...good, { name: '   ', agentId: 'batch-3' }],
        message: /^devices\[2\]\.name must not be empty/,
      },
      {
        name: 'an empty list',
        devices: [],
        message: /^devices must list at least one device/,
      },
    ])('registerDevices with $name: BAD_USER_INPUT and none written', async ({ devices, message }) => {
      const before = await written();
      const res = await tc.gql(RegisterDevicesDocument, { devices }, admin);
      expectError(res, 'BAD_USER_INPUT', message);
      expect(res.data ?? null).toBeNull();
      expect(await written()).toEqual(before);
      const batch = await tc.gql(DevicesDocument, { filter: { search: 'batch' } }, admin);
      expect(batch.data!.devices.totalCount).toBe(0);
    });

    it('enableClientCertificateSecurity(confirm: false): BAD_USER_INPUT naming confirm, and security stays off', async () => {
      const before = await written();
      expect(before.securityEnabled).toBe(false);
      const res = await tc.gql(EnableSecurityDocument, { confirm: false }, admin);
      expectError(res, 'BAD_USER_INPUT', /confirm: true/);
      expect(res.errors![0]!.extensions?.argument).toBe('confirm');
      expect(await written()).toEqual(before);
    });
  });

  describe('request bodies', () => {
    it('a body over 1 MB is refused with 413 and a JSON error', async () => {
      const res = await fetch(tc.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: '{ authStatusSummary { total } }', variables: { pad: 'x'.repeat(1024 * 1024 + 1) } }),
      });
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({
        errors: [{ message: 'request body is larger than 1mb', extensions: { code: 'BAD_USER_INPUT', requestId: res.headers.get('x-request-id') } }],
      });
    });

    it('a body that is not JSON is refused with 400 and a JSON error', async () => {
      const res = await fetch(tc.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: '{"query": "{ authStatusSummary { total } }"',
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as GraphQLResult<unknown>;
      expect(errorCode({ ...body, status: res.status })).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(body)).not.toMatch(/    at |SyntaxError/);
    });
  });

  it('logged no unexpected error for any of the above', () => {
    expect(parseLogs(tc.logs).filter((l) => l.level === 'error')).toEqual([]);
  });
});
