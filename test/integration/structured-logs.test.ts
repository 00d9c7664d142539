import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import {
  ApproveClientDocument,
  CreateChartQueryDocument,
  DeleteSavedQueryDocument,
  EnableSecurityDocument,
  RegisterDevicesDocument,
  RejectClientDocument,
  RevokeClientCertificateDocument,
  SetSecureDataDocument,
  SummaryChangedDocument,
  SummaryDocument,
} from '../generated/graphql.js';
import { agentsOf, errorOf, type TestAgent } from '../support/agent.js';
import { subscribeLive } from '../support/live-client.js';
import { parseLogs, type LogLine } from '../support/logs.js';
import { openRawSocket } from '../support/raw-socket.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PASSPHRASE = `passphrase-${randomBytes(8).toString('hex')}`;
const SECRET_VALUE = `SECRET-VALUE-${randomBytes(12).toString('hex')}`;

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** pemBody is the base64 lines of a PEM: any one of them in a log line means the key leaked. */
const pemBody = (pem: string) => pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));

/**
 * One full scenario against a real core (enroll, approve, connect, secure data, every admin
 * decision, refused tokens over HTTP and graphql-ws, a masked crash on both ports), then every
 * captured log line is read back: JSON, with a request id where a request was served, decisions
 * with their actor, and none of the scenario's secrets anywhere.
 */
describe('structured logs over a full scenario', () => {
  let tc: TestCore;
  const agents = agentsOf(() => tc.core);
  let admin: string;
  let viewer: string;
  let badToken: string;
  let expiredToken: string;
  const answers: Answer[] = [];

  async function post<R, V>(doc: TypedDocumentNode<R, V>, variables: V, token: string | null, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(tc.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
      body: JSON.stringify({ query: print(doc), variables }),
    });
    const answer = { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
    answers.push(answer);
    return answer;
  }

  const lines = (): LogLine[] => parseLogs(tc.logs);
  const withMsg = (msg: string) => lines().filter((l) => l.msg === msg);

  beforeAll(async () => {
    tc = await startTestCore({ env: { CA_KEY_PASSPHRASE: PASSPHRASE } });
    admin = await tc.token('alice-admin', ['SECURITY_ADMIN']);
    viewer = await tc.token('victor-viewer', ['VIEWER']);
    // Signed by the right key, long expired.
    expiredToken = await issueToken(tc.config.auth, { subject: 'alice-admin', roles: ['SECURITY_ADMIN'], ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    badToken = `not-a-jwt-${randomBytes(16).toString('hex')}`;
  });

  afterAll(async () => {
    agents.closeAll();
    await tc?.close();
  });

  let agent: TestAgent;
  let certificateId: string;

  it('enrolls, approves (under the caller’s x-request-id), connects and fetches secure data', async () => {
    const registered = await post(RegisterDevicesDocument, { devices: [{ name: 'PC-IMPORTED', agentId: 'pc-imported', agentVersion: '2024.1' }] }, admin);
    expect(registered.body.errors).toBeUndefined();

    agent = agents.make('pc-logs');
    const enrolled = await agent.enroll();
    expect(enrolled.status).toBe(202);
    certificateId = (enrolled.body as { requestId: string }).requestId;
    expect(enrolled.headers['x-request-id']).toMatch(UUID);

    const approved = await post(ApproveClientDocument, { id: certificateId }, admin, { 'x-request-id': 'support-case-42' });
    expect(approved.body.errors).toBeUndefined();
    expect(approved.headers.get('x-request-id')).toBe('support-case-42');
    const polled = await agent.poll(certificateId);
    agent.useCertificate((polled.body as { certificatePem: string }).certificatePem);
    const connected = await agent.connect();
    expect(connected.status).toBe(200);

    const set = await post(SetSecureDataDocument, { name: 'core-password', value: SECRET_VALUE }, admin);
    expect(set.body.errors).toBeUndefined();
    const jwe = await agent.secureData('core-password');
    expect(jwe.status).toBe(200);
    expect(await agent.decrypt(String(jwe.body))).toBe(SECRET_VALUE);
    const missing = await agent.secureData('no-such-item');
    expect(missing.status).toBe(404);
    expect((missing.body as { error: { requestId: string } }).error.requestId).toBe(missing.headers['x-request-id']);

    const other = agents.make('pc-rejected');
    const otherId = ((await other.enroll()).body as { requestId: string }).requestId;
    expect((await post(RejectClientDocument, { id: otherId, reason: 'unknown device' }, admin)).body.errors).toBeUndefined();
    const saved = await post(CreateChartQueryDocument, { status: 'AUTHENTICATION_SUCCEEDED' }, admin);
    const savedId = (saved.body.data!.createChartQuery as { id: string }).id;
    expect((await post(DeleteSavedQueryDocument, { id: savedId }, admin)).body.errors).toBeUndefined();
    expect((await post(EnableSecurityDocument, { confirm: true }, admin)).body.errors).toBeUndefined();
  });

  it('refuses a bad and an expired token over HTTP, each error naming the request id of its x-request-id header', async () => {
    for (const token of [badToken, expiredToken]) {
      const refused = await post(SummaryDocument, {}, token);
      expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
      const id = refused.headers.get('x-request-id');
      expect(id).toMatch(UUID);
      expect(refused.body.errors![0]!.extensions!.requestId).toBe(id);
    }
    // A header that is not a well-formed id is replaced, not echoed.
    const odd = await post(SummaryDocument, {}, viewer, { 'x-request-id': 'has spaces, "quotes"' });
    expect(odd.headers.get('x-request-id')).toMatch(UUID);
    // Refusals before any resolver runs carry it too: a body that is not JSON, a query that does not parse, one over a limit.
    for (const body of ['{"query": ', JSON.stringify({ query: '{ authStatusSummary { total ' }), JSON.stringify({ query: `{ ${'a: authStatusSummary { total } '.repeat(40)} }` })]) {
      const res = await fetch(tc.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}`, 'x-request-id': 'early-1' },
        body,
      });
      expect(res.headers.get('x-request-id')).toBe('early-1');
      const errors = ((await res.json()) as Answer['body']).errors!;
      expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', requestId: 'early-1' });
    }
  });

  it('refuses a bad and an expired token over graphql-ws, logging the refusal under the socket’s request id', async () => {
    for (const token of [badToken, expiredToken]) {
      const live = subscribeLive(tc.url, { authorization: `Bearer ${token}` }, print(SummaryChangedDocument));
      const closed = await live.closed;
      expect(closed.code).toBe(4401);
      live.dispose();
    }
    const socket = openRawSocket(tc.url, badToken, { 'x-request-id': 'ws-refused-1' });
    expect((await socket.upgraded)['x-request-id']).toBe('ws-refused-1');
    expect((await socket.closed).code).toBe(4401);
    expect(withMsg('graphql-ws connection refused: unauthenticated').map((l) => l.requestId)).toContain('ws-refused-1');
  });

  it('masks a crash on both ports, each with the request id in the answer and on the logged error', async () => {
    const db = tc.core.database.db;
    await db.execute(sql`
      create function certfleet_test_crash() returns trigger language plpgsql as $$
      begin
        if new.action = 'savedQuery.deleted' or new.actor = 'agent:pc-crash' then
          raise exception 'crash for the test';
        end if;
        return new;
      end $$`);
    await db.execute(sql`create trigger certfleet_test_crash before insert on audit_events for each row execute function certfleet_test_crash()`);
    try {
      const saved = await post(CreateChartQueryDocument, { status: 'AUTHENTICATION_FAILED' }, admin);
      const savedId = (saved.body.data!.createChartQuery as { id: string }).id;

      // GraphQL over HTTP.
      const crashed = await post(DeleteSavedQueryDocument, { id: savedId }, admin, { 'x-request-id': 'crash-http-1' });
      expect(crashed.body.errors![0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'crash-http-1' } });

      // GraphQL over graphql-ws: the socket's id.
      const socket = openRawSocket(tc.url, admin, { 'x-request-id': 'crash-ws-1' });
      await socket.acknowledged;
      socket.subscribe('op-1', print(DeleteSavedQueryDocument), { id: savedId });
      const next = await socket.until('op-1', (m) => m.type === 'next');
      const errors = (next.payload as Answer['body']).errors!;
      expect(errors[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'crash-ws-1' } });
      // A malformed operation on the same socket: its error names the socket too.
      socket.subscribe('op-2', 'subscription { nope }');
      const refused = await socket.until('op-2', (m) => m.type === 'error');
      expect((refused.payload as { extensions: Record<string, unknown> }[])[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', requestId: 'crash-ws-1' });
      socket.close();

      // The agent gateway.
      const crasher = agents.make('pc-crash');
      const gateway500 = await crasher.enroll();
      expect(gateway500.status).toBe(500);
      const gatewayId = gateway500.headers['x-request-id'];
      expect(gatewayId).toMatch(UUID);
      expect(gateway500.body).toEqual({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', requestId: gatewayId } });
      expect(errorOf(gateway500.body).code).toBe('INTERNAL_SERVER_ERROR');

      const graphqlErrors = withMsg('unexpected error in a GraphQL operation');
      expect(graphqlErrors.map((l) => l.requestId).sort()).toEqual(['crash-http-1', 'crash-ws-1']);
      for (const l of graphqlErrors) {
        expect(l.level).toBe('error');
        expect(l.error).toMatchObject({ type: 'DrizzleQueryError', stack: expect.stringContaining('    at ') });
        expect(JSON.stringify(l.error)).toContain('crash for the test');
        // The failed query is named, its parameters are not.
        expect(JSON.stringify(l.error)).toContain('insert into \\"audit_events\\"');
        expect(JSON.stringify(l.error)).not.toContain('savedQuery.deleted');
      }
      const gatewayErrors = withMsg('agent gateway: request failed');
      expect(gatewayErrors.map((l) => [l.level, l.requestId, l.route])).toEqual([['error', gatewayId, '/agent/v1/enroll']]);
      for (const l of [...graphqlErrors, ...gatewayErrors]) {
        expect(JSON.stringify(l)).not.toMatch(/"params":\[|"parameters":\[|agent:pc-crash|alice-admin/);
      }
    } finally {
      await db.execute(sql`drop trigger certfleet_test_crash on audit_events`);
      await db.execute(sql`drop function certfleet_test_crash()`);
    }
  });

  it('revokes', async () => {
    expect((await post(RevokeClientCertificateDocument, { id: certificateId, reason: 'KEY_COMPROMISE' }, admin)).body.errors).toBeUndefined();
  });

  it('logged every line as one JSON object with a level name, a time and a message', () => {
    expect(tc.logs.length).toBeGreaterThan(10);
    for (const l of lines()) {
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
      expect(new Date(l.time).toISOString()).toBe(l.time);
      expect(typeof l.msg).toBe('string');
    }
  });

  it('logged every admin decision once committed, at info, with its actor and its targets, under its request id', () => {
    const decisions = lines().filter((l) => typeof l.action === 'string');
    expect(decisions.map((l) => [l.msg, l.action, l.actor])).toEqual([
      ['devices registered', 'devices.registered', 'alice-admin'],
      ['client access approved', 'clientAccess.approved', 'alice-admin'],
      ['secure data set', 'secureData.set', 'alice-admin'],
      ['client access rejected', 'clientAccess.rejected', 'alice-admin'],
      ['saved query deleted', 'savedQuery.deleted', 'alice-admin'],
      ['client certificate security enabled', 'security.enabled', 'alice-admin'],
      ['client certificate revoked', 'clientAccess.revoked', 'alice-admin'],
    ]);
    for (const l of decisions) {
      expect(l.level).toBe('info');
      expect(l.requestId).toMatch(/\S/);
    }
    const approval = withMsg('client access approved')[0]!;
    expect(approval).toMatchObject({ requestId: 'support-case-42', certificateRequestIds: [certificateId] });
    expect(approval.serialNumbers).toHaveLength(1);
    expect(withMsg('client certificate revoked')[0]).toMatchObject({ certificateRequestIds: [certificateId], reason: 'KEY_COMPROMISE' });
    expect(withMsg('secure data set')[0]).toMatchObject({ name: 'core-password' });
    expect(withMsg('devices registered')[0]).toMatchObject({ added: 1, updated: 0, deviceIds: [expect.any(String)] });
    // Each decision's request id is the one the caller got back.
    const returned = new Set(answers.map((a) => a.headers.get('x-request-id')));
    for (const l of decisions) expect(returned.has(l.requestId!)).toBe(true);
  });

  it('logged what was said while serving a request under that request’s id, and the start-up without one', () => {
    for (const msg of ['GraphQL request refused: unauthenticated', 'graphql-ws connection refused: unauthenticated', 'agent gateway: request refused']) {
      const found = withMsg(msg);
      expect(found.length, msg).toBeGreaterThan(0);
      for (const l of found) expect(l.requestId, msg).toMatch(/\S/);
    }
    // Two refused tokens over HTTP and three over graphql-ws, each noted once.
    expect(withMsg('GraphQL request refused: unauthenticated').map((l) => l.reason)).toEqual(['token is malformed', 'token expired']);
    expect(withMsg('graphql-ws connection refused: unauthenticated')).toHaveLength(3);
    const startup = lines().find((l) => l.msg === 'certificate authority created');
    expect(startup).toBeDefined();
    expect(startup!.requestId).toBeUndefined();
  });

  it('never logged a token, a private key, the passphrase or the secret value', async () => {
    const all = tc.logs.join('\n');
    const caKeyPem = tc.core.authority.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const tokenKeyPem = await readFile(join(tc.config.dataDir, 'jwt-signing-key.pem'), 'utf8');
    const secrets: [string, string][] = [
      ['the admin token', admin],
      ['the viewer token', viewer],
      ['the bad token', badToken],
      ['the expired token', expiredToken],
      ['the secure data value', SECRET_VALUE],
      ['CA_KEY_PASSPHRASE', PASSPHRASE],
      ...pemBody(agent.privateKeyPem()).map((l): [string, string] => ['the agent key', l]),
      ...pemBody(caKeyPem).map((l): [string, string] => ['the CA key', l]),
      ...pemBody(tokenKeyPem).map((l): [string, string] => ['the token signing key', l]),
    ];
    expect(secrets.length).toBeGreaterThan(10);
    for (const [what, secret] of secrets) {
      expect(secret.length, what).toBeGreaterThan(12);
      expect(all.includes(secret), `${what} appears in the logs`).toBe(false);
    }
    // The signature of a token alone is enough to spot one.
    for (const token of [admin, viewer, expiredToken]) expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain('PRIVATE KEY');
    expect(all).not.toMatch(/Bearer /);
  });
});
