import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isAbstractType,
  parse,
  type GraphQLInputType,
  type IntrospectionQuery,
} from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/roles.js';
import { issueToken } from '../../src/server/auth.js';
import {
  AuditLogDocument,
  CreateChartQueryDocument,
  DeleteSavedQueryDocument,
  DevicesDocument,
  EnableSecurityDocument,
  MyQueriesDocument,
  RegisterDevicesDocument,
  SecuritySettingsDocument,
  SummaryDocument,
} from '../generated/graphql.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { errorCode, type GraphQLResult, type TestCore } from '../support/test-core.js';

const WS_TIMEOUT_MS = 5_000;

/** untyped wraps an operation that has no generated document (introspection, ad-hoc checks). */
const untyped = (text: string) => parse(text) as TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>;

describe('authentication and roles over HTTP and WebSocket', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  let otherDataDir: string;

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens());
    otherDataDir = await mkdtemp(join(tmpdir(), 'certfleet-other-core-'));
    await tc.core.services.devices.registerDevices({ subject: 'seed', roles: ['SECURITY_ADMIN'] }, [
      { name: 'WS-AUTH-1', agentId: 'auth-1', agentVersion: '2024.1' },
      { name: 'WS-AUTH-2', agentId: 'auth-2', agentVersion: '9.60' },
    ]);
  });
  afterAll(async () => {
    await tc?.close();
    if (otherDataDir) await rm(otherDataDir, { recursive: true, force: true });
  });

  /** post sends a summary query with exactly the given Authorization header (or none). */
  async function post(authorization: string | undefined): Promise<{ status: number; body: GraphQLResult<unknown> }> {
    const res = await fetch(tc.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify({ query: '{ authStatusSummary { total } }' }),
    });
    return { status: res.status, body: (await res.json()) as GraphQLResult<unknown> };
  }

  function expectUnauthenticated(res: { status: number; body: GraphQLResult<unknown> }, message: string, token?: string) {
    expect(res.status).toBe(401);
    expect(res.body.data ?? undefined).toBeUndefined();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors![0]!.message).toBe(message);
    expect(JSON.stringify(res.body)).not.toMatch(/stacktrace|    at /);
    if (token) expect(JSON.stringify(res.body)).not.toContain(token);
  }

  describe('a request without a good token gets 401 UNAUTHENTICATED and no data', () => {
    it('no Authorization header', async () => {
      expectUnauthenticated(await post(undefined), 'missing bearer token');
    });

    it.each([
      { name: 'Basic credentials', header: 'Basic dXNlcjpwYXNz' },
      { name: 'Bearer with no token', header: 'Bearer' },
      { name: 'Bearer and spaces only', header: 'Bearer    ' },
      { name: 'a bare token with no scheme', header: 'eyJhbGciOiJFUzI1NiJ9.e30.sig' },
      { name: 'garbage', header: '%%% not a header ###' },
      { name: 'two tokens', header: 'Bearer a.b.c d.e.f' },
    ])('malformed header: $name', async ({ header }) => {
      expectUnauthenticated(await post(header), 'missing bearer token');
    });

    it('a bearer value that is not a JWT', async () => {
      expectUnauthenticated(await post('Bearer not-a-jwt'), 'token is malformed');
    });

    it('an expired token', async () => {
      const token = await issueToken(tc.config.auth, {
        subject: 'alice',
        roles: ['SECURITY_ADMIN'],
        ttlSeconds: 60,
        now: new Date(Date.now() - 3600_000),
      });
      expectUnauthenticated(await post(`Bearer ${token}`), 'token expired', token);
    });

    it('a token for another audience', async () => {
      const token = await issueToken({ ...tc.config.auth, audience: 'other' }, { subject: 'alice', roles: ['SECURITY_ADMIN'], ttlSeconds: 600 });
      expectUnauthenticated(await post(`Bearer ${token}`), 'token audience is not accepted', token);
    });

    it('a token from another issuer', async () => {
      const token = await issueToken({ ...tc.config.auth, issuer: 'urn:someone:else' }, { subject: 'alice', roles: ['SECURITY_ADMIN'], ttlSeconds: 600 });
      expectUnauthenticated(await post(`Bearer ${token}`), 'token issuer is not accepted', token);
    });

    it("a token signed by another core's key", async () => {
      const token = await issueToken({ ...tc.config.auth, dataDir: otherDataDir }, { subject: 'alice', roles: ['SECURITY_ADMIN'], ttlSeconds: 600 });
      expectUnauthenticated(await post(`Bearer ${token}`), 'token signature is invalid', token);
    });

    it('a VIEWER token whose payload was edited to claim SECURITY_ADMIN', async () => {
      const [header, payload, signature] = viewer.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
      const forged = [header, Buffer.from(JSON.stringify({ ...claims, roles: ['SECURITY_ADMIN'] })).toString('base64url'), signature].join('.');
      expectUnauthenticated(await post(`Bearer ${forged}`), 'token signature is invalid', forged);
    });

    it('an unsigned (alg none) token', async () => {
      const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const token = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({
        sub: 'mallory',
        roles: ['SECURITY_ADMIN'],
        iss: tc.config.auth.issuer,
        aud: tc.config.auth.audience,
        iat: now,
        exp: now + 600,
      })}.`;
      const res = await post(`Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.body.data ?? undefined).toBeUndefined();
    });

    it('a mutation without a token writes nothing', async () => {
      const before = (await tc.gql(DevicesDocument, { first: 1 }, admin)).data!.devices.totalCount;
      const res = await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'WS-NO-TOKEN', agentId: 'no-token' }] }, null);
      expect(res.status).toBe(401);
      expect(errorCode(res)).toBe('UNAUTHENTICATED');
      expect((await tc.gql(DevicesDocument, { first: 1 }, admin)).data!.devices.totalCount).toBe(before);
    });
  });

  describe('roles', () => {
    /** state is what a mutation could change: read before and after to prove nothing did. */
    async function state() {
      const [summary, devices, audit, settings, carolQueries] = await Promise.all([
        tc.gql(SummaryDocument, {}, admin),
        tc.gql(DevicesDocument, { first: 500 }, admin),
        tc.gql(AuditLogDocument, { first: 500 }, admin),
        tc.gql(SecuritySettingsDocument, {}, admin),
        tc.gql(MyQueriesDocument, {}, await tc.token('carol', ['VIEWER'])),
      ]);
      const { asOf: _asOf, ...counts } = summary.data!.authStatusSummary;
      return {
        counts,
        devices: devices.data!.devices.edges.map((e) => [e.node.id, e.node.name, e.node.agentVersion]),
        audit: audit.data!.auditLog.edges.map((e) => e.node.id),
        securityEnabled: settings.data!.securitySettings.clientCertificateSecurityEnabled,
        carolQueries: carolQueries.data!.myQueries.map((q) => [q.id, q.updatedAt]),
      };
    }

    let carolQueryId: string;

    beforeAll(async () => {
      // carol (an admin) saves a query; her VIEWER token must not be able to delete it.
      const carolAdmin = await tc.token('carol', ['SECURITY_ADMIN']);
      const res = await tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_FAILED' }, carolAdmin);
      expect(res.errors).toBeUndefined();
      carolQueryId = res.data!.createChartQuery.id;
    });

    it('a VIEWER can run the queries', async () => {
      const summary = await tc.gql(SummaryDocument, {}, viewer);
      expect(summary.errors).toBeUndefined();
      expect(summary.data!.authStatusSummary.total).toBe(3);
      const devices = await tc.gql(DevicesDocument, { filter: { search: 'WS-AUTH' } }, viewer);
      expect(devices.errors).toBeUndefined();
      expect(devices.data!.devices.edges.map((e) => e.node.name).sort()).toEqual(['WS-AUTH-1', 'WS-AUTH-2']);
      for (const doc of [SecuritySettingsDocument, MyQueriesDocument] as const) {
        const res = await tc.gql(doc as TypedDocumentNode<unknown, Record<string, never>>, {}, viewer);
        expect(res.errors).toBeUndefined();
      }
      const audit = await tc.gql(AuditLogDocument, { first: 5 }, viewer);
      expect(audit.errors).toBeUndefined();
      expect(audit.data!.auditLog.edges.length).toBeGreaterThan(0);
    });

    it('a VIEWER gets FORBIDDEN on every mutation, and nothing changes', async () => {
      const carolViewer = await tc.token('carol', ['VIEWER']);
      const before = await state();
      const attempts: [string, Promise<GraphQLResult<unknown>>][] = [
        ['registerDevices', tc.gql(RegisterDevicesDocument, { devices: [{ name: 'WS-VIEWER', agentId: 'viewer-1' }, { name: 'WS-AUTH-1', agentId: 'auth-1', agentVersion: '2025.1' }] }, viewer)],
        ['enableClientCertificateSecurity', tc.gql(EnableSecurityDocument, { confirm: true }, viewer)],
        ['createChartQuery', tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_SUCCEEDED' }, viewer)],
        ['createChartQuery (refresh of own query)', tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_FAILED' }, carolViewer)],
        ['deleteSavedQuery (own query)', tc.gql(DeleteSavedQueryDocument, { id: carolQueryId }, carolViewer)],
      ];
      for (const [name, attempt] of attempts) {
        const res = await attempt;
        expect(errorCode(res), name).toBe('FORBIDDEN');
        expect(res.errors![0]!.message, name).toContain('SECURITY_ADMIN');
        expect(res.data ?? null, name).toBeNull();
      }
      expect(await state()).toEqual(before);
    });

    it('a VIEWER gets FORBIDDEN on every mutation the served schema has (introspected), and nothing changes', async () => {
      const intro = await tc.gql(untyped(getIntrospectionQuery()), {}, viewer);
      expect(intro.errors).toBeUndefined();
      const schema = buildClientSchema(intro.data as unknown as IntrospectionQuery);
      const mutations = Object.values(schema.getMutationType()!.getFields());
      expect(mutations.map((m) => m.name)).toEqual(
        expect.arrayContaining(['registerDevices', 'enableClientCertificateSecurity', 'createChartQuery', 'deleteSavedQuery']),
      );

      // A valid literal for every required argument, so each call reaches its resolver.
      const literal = (type: GraphQLInputType): string => {
        if (isNonNullType(type)) return literal(type.ofType);
        if (isListType(type)) return `[${literal(type.ofType)}]`;
        if (isEnumType(type)) return type.getValues()[0]!.name;
        if (isInputObjectType(type)) {
          const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type));
          return `{${fields.map((f) => `${f.name}: ${literal(f.type)}`).join(', ')}}`;
        }
        const scalar: Record<string, string> = { Int: '1', Float: '1', Boolean: 'true', ID: '"1"', String: '"forbidden-probe"' };
        return scalar[type.name] ?? '"2020-01-01T00:00:00.000Z"';
      };
      const before = await state();
      for (const m of mutations) {
        const args = m.args.filter((a) => isNonNullType(a.type)).map((a) => `${a.name}: ${literal(a.type)}`);
        const named = getNamedType(m.type);
        const selection = isObjectType(named) || isAbstractType(named) ? ' { __typename }' : '';
        const text = `mutation { ${m.name}${args.length ? `(${args.join(', ')})` : ''}${selection} }`;
        const res = await tc.gql(untyped(text), {}, viewer);
        expect(errorCode(res), text).toBe('FORBIDDEN');
      }
      expect(await state()).toEqual(before);
    });

    it.each<{ name: string; roles: string[] }>([
      { name: 'no roles at all', roles: [] },
      { name: 'only role names certfleet does not know', roles: ['ROOT', 'viewer', 'Admin'] },
    ])('a token with $name gets FORBIDDEN even on queries', async ({ roles }) => {
      const token = await tc.token('nobody', roles as Role[]);
      for (const doc of [SummaryDocument, DevicesDocument, SecuritySettingsDocument, AuditLogDocument, MyQueriesDocument] as const) {
        const res = await tc.gql(doc as TypedDocumentNode<unknown, Record<string, never>>, {}, token);
        expect(errorCode(res)).toBe('FORBIDDEN');
        expect(res.errors![0]!.message).toMatch(/no certfleet role/);
        expect(res.data ?? null).toBeNull();
      }
      const mutation = await tc.gql(CreateChartQueryDocument, { status: 'AUTHENTICATION_FAILED' }, token);
      expect(errorCode(mutation)).toBe('FORBIDDEN');
    });

    it('a SECURITY_ADMIN can run every mutation, and each is audited under its subject', async () => {
      const reg = await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'WS-ADMIN-1', agentId: 'admin-1', agentVersion: '2024.2' }] }, admin);
      expect(reg.errors).toBeUndefined();
      expect(reg.data!.registerDevices[0]).toMatchObject({ name: 'WS-ADMIN-1', agentId: 'admin-1', authStatus: 'NO_AUTHENTICATION_INFO' });

      const created = await tc.gql(CreateChartQueryDocument, { status: 'CLIENT_AGENTS_MUST_UPGRADE' }, admin);
      expect(created.errors).toBeUndefined();
      const deleted = await tc.gql(DeleteSavedQueryDocument, { id: created.data!.createChartQuery.id }, admin);
      expect(deleted.errors).toBeUndefined();
      expect(deleted.data!.deleteSavedQuery).toBe(true);

      // Irreversible, so last.
      const enabled = await tc.gql(EnableSecurityDocument, { confirm: true }, admin);
      expect(enabled.errors).toBeUndefined();
      expect(enabled.data!.enableClientCertificateSecurity).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice' });

      const audit = (await tc.gql(AuditLogDocument, { first: 10 }, admin)).data!.auditLog.edges.map((e) => e.node);
      expect(audit.slice(0, 4).map((e) => [e.actor, e.action])).toEqual([
        ['alice', 'security.enabled'],
        ['alice', 'savedQuery.deleted'],
        ['alice', 'savedQuery.created'],
        ['alice', 'devices.registered'],
      ]);
    });
  });

  describe('graphql-ws on the same URL', () => {
    const clients: Client[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.dispose()));
    });

    function connect(connectionParams?: Record<string, unknown>): { client: Client; closed: Promise<{ code: number; reason: string }> } {
      let onClosed!: (e: { code: number; reason: string }) => void;
      const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
      const client = createClient({
        url: tc.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams,
        retryAttempts: 0,
        lazy: true,
        on: { closed: (e) => onClosed(e as { code: number; reason: string }) },
      });
      clients.push(client);
      return { client, closed };
    }

    /** runQuery runs one operation over the socket; it settles within WS_TIMEOUT_MS whatever happens. */
    function runQuery(client: Client, query: string): Promise<{ data?: unknown; errors?: unknown; failure?: unknown }> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer over graphql-ws within ${WS_TIMEOUT_MS} ms`)), WS_TIMEOUT_MS);
        let result: { data?: unknown; errors?: unknown } = {};
        client.subscribe(
          { query },
          {
            next: (value) => (result = value as typeof result),
            error: (failure) => {
              clearTimeout(timer);
              resolve({ failure });
            },
            complete: () => {
              clearTimeout(timer);
              resolve(result);
            },
          },
        );
      });
    }

    function within<T>(promise: Promise<T>, what: string): Promise<T> {
      return Promise.race([
        promise,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${WS_TIMEOUT_MS} ms`)), WS_TIMEOUT_MS)),
      ]);
    }

    it.each<{ name: string; params: () => Promise<Record<string, unknown> | undefined>; reason: RegExp }>([
      { name: 'no token', params: async () => undefined, reason: /missing bearer token/ },
      { name: 'a garbage token', params: async () => ({ token: 'garbage' }), reason: /token is malformed/ },
      { name: 'a Basic authorization', params: async () => ({ authorization: 'Basic dXNlcjpwYXNz' }), reason: /missing bearer token/ },
      { name: 'a garbage token under Authorization', params: async () => ({ Authorization: 'Bearer garbage' }), reason: /token is malformed/ },
      {
        name: 'two different tokens under authorization and Authorization',
        params: async () => ({ authorization: `Bearer ${viewer}`, Authorization: 'Bearer garbage' }),
        reason: /authorization more than once/,
      },
      {
        name: 'an expired token',
        params: async () => ({
          token: await issueToken(tc.config.auth, { subject: 'alice', roles: ['SECURITY_ADMIN'], ttlSeconds: 60, now: new Date(Date.now() - 3600_000) }),
        }),
        reason: /token expired/,
      },
      {
        name: "another core's token",
        params: async () => ({
          token: await issueToken({ ...tc.config.auth, dataDir: otherDataDir }, { subject: 'alice', roles: ['SECURITY_ADMIN'], ttlSeconds: 600 }),
        }),
        reason: /token signature is invalid/,
      },
      {
        name: "another core's token under AUTHORIZATION",
        params: async () => ({
          AUTHORIZATION: `Bearer ${await issueToken({ ...tc.config.auth, dataDir: otherDataDir }, { subject: 'alice', roles: ['SECURITY_ADMIN'], ttlSeconds: 600 })}`,
        }),
        reason: /token signature is invalid/,
      },
    ])('$name: the socket is closed with 4401', async ({ params, reason }) => {
      const { client, closed } = connect(await params());
      const result = await runQuery(client, '{ authStatusSummary { total } }');
      expect(result.data).toBeUndefined();
      const event = await within(closed, 'close event');
      expect(event.code).toBe(4401);
      expect(event.reason).toMatch(reason);
    });

    it.each<{ name: string; params: () => Record<string, unknown> }>([
      { name: 'authorization', params: () => ({ authorization: `Bearer ${viewer}` }) },
      { name: 'Authorization, as most snippets write it', params: () => ({ Authorization: `Bearer ${viewer}` }) },
      { name: 'AUTHORIZATION', params: () => ({ AUTHORIZATION: `Bearer ${viewer}` }) },
      { name: 'token', params: () => ({ token: viewer }) },
    ])('with a good token under $name a query over the socket works', async ({ params }) => {
      const { client } = connect(params());
      const result = await runQuery(client, '{ authStatusSummary { total } }');
      expect(result.failure).toBeUndefined();
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ authStatusSummary: { total: 4 } });
    });

    it('a VIEWER on the socket is FORBIDDEN to mutate, as over HTTP', async () => {
      const { client } = connect({ token: viewer });
      const result = await runQuery(client, 'mutation { createChartQuery(status: AUTHENTICATION_SUCCEEDED) { id } }');
      expect((result.errors as { extensions?: { code?: string } }[] | undefined)?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });
});
