import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, calculateJwkThumbprint, decodeProtectedHeader, decodeJwt, exportJWK, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthConfig } from '../../../src/config.js';
import {
  AuthError,
  bearerOfConnectionParams,
  createTokenVerifier,
  issueToken,
  loadOrCreateSigningKey,
  MAX_TTL_SECONDS,
  parseBearer,
  parseDuration,
  type TokenVerifier,
} from '../../../src/server/auth.js';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function localAuth(dataDir: string, overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    mode: 'local',
    issuer: 'urn:certfleet:core',
    audience: 'urn:certfleet:api',
    algorithms: ['ES256'],
    rolesClaim: 'roles',
    dataDir,
    ...overrides,
  };
}

async function expectAuthError(promise: Promise<unknown>, message: string, token?: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).code).toBe('UNAUTHENTICATED');
  expect((err as AuthError).message).toBe(message);
  if (token) expect((err as AuthError).message).not.toContain(token);
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-auth-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('local mode', () => {
  let auth: AuthConfig;
  let verifier: TokenVerifier;

  beforeEach(async () => {
    auth = localAuth(await tempDir());
    verifier = await createTokenVerifier(auth);
  });

  it('an issued token verifies and yields its subject, roles and expiry', async () => {
    const token = await issueToken(auth, { subject: 'alice', roles: ['SECURITY_ADMIN', 'VIEWER'], ttlSeconds: 3600 });
    const caller = await verifier.verify(token);
    expect(caller.subject).toBe('alice');
    expect(caller.roles).toEqual(['SECURITY_ADMIN', 'VIEWER']);
    expect(Math.abs(caller.expiresAt.getTime() - (Date.now() + 3600_000))).toBeLessThan(5_000);
  });

  it('an issued token carries ES256, typ JWT, the key thumbprint as kid, and a unique jti', async () => {
    const a = await issueToken(auth, { subject: 'alice', roles: ['VIEWER'], ttlSeconds: 60 });
    const b = await issueToken(auth, { subject: 'alice', roles: ['VIEWER'], ttlSeconds: 60 });
    const { publicKey } = await loadOrCreateSigningKey(auth.dataDir);
    expect(decodeProtectedHeader(a)).toEqual({
      alg: 'ES256',
      typ: 'JWT',
      kid: await calculateJwkThumbprint(await exportJWK(publicKey)),
    });
    const claims = decodeJwt(a);
    expect(claims).toMatchObject({ iss: auth.issuer, aud: auth.audience, sub: 'alice', roles: ['VIEWER'] });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt(b).jti).not.toBe(claims.jti);
  });

  it('the roles claim name follows the config', async () => {
    const custom = localAuth(auth.dataDir, { rolesClaim: 'certfleet_roles' });
    const token = await issueToken(custom, { subject: 'bob', roles: ['VIEWER'], ttlSeconds: 60 });
    expect(decodeJwt(token).certfleet_roles).toEqual(['VIEWER']);
    expect((await (await createTokenVerifier(custom)).verify(token)).roles).toEqual(['VIEWER']);
    expect((await verifier.verify(token)).roles).toEqual([]);
  });

  // Tokens signed with the core's own key but with chosen claims or headers.
  async function signLocal(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    const { privateKey } = await loadOrCreateSigningKey(auth.dataDir);
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT', ...header }).sign(privateKey);
  }
  const validClaims = () => ({
    iss: 'urn:certfleet:core',
    aud: 'urn:certfleet:api',
    sub: 'alice',
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
  });

  const rejected: { name: string; token: () => Promise<string>; message: string }[] = [
    {
      name: 'an expired token',
      token: () =>
        issueToken(auth, { subject: 'alice', roles: ['VIEWER'], ttlSeconds: 60, now: new Date(Date.now() - 2 * 3600_000) }),
      message: 'token expired',
    },
    {
      name: 'a token for another audience',
      token: () => issueToken({ ...auth, audience: 'urn:other:api' }, { subject: 'alice', roles: [], ttlSeconds: 60 }),
      message: 'token audience is not accepted',
    },
    {
      name: 'a token from another issuer',
      token: () => issueToken({ ...auth, issuer: 'urn:other:core' }, { subject: 'alice', roles: [], ttlSeconds: 60 }),
      message: 'token issuer is not accepted',
    },
    {
      name: 'a token signed by another key',
      token: async () => issueToken(localAuth(await tempDir()), { subject: 'alice', roles: ['SECURITY_ADMIN'], ttlSeconds: 60 }),
      message: 'token signature is invalid',
    },
    {
      name: 'an unsigned alg "none" token',
      token: async () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(validClaims())}.`,
      message: 'token algorithm is not accepted',
    },
    {
      name: 'an HS256 token keyed with the public key bytes (algorithm confusion)',
      token: async () => {
        const { publicKey } = await loadOrCreateSigningKey(auth.dataDir);
        const secret = new TextEncoder().encode(publicKey.export({ type: 'spki', format: 'pem' }) as string);
        return new SignJWT(validClaims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
      },
      message: 'token algorithm is not accepted',
    },
    {
      name: 'a token without sub',
      token: () => {
        const { sub: _sub, ...claims } = validClaims();
        return signLocal(claims);
      },
      message: 'token has no subject',
    },
    {
      name: 'a token with an empty sub',
      token: () => signLocal({ ...validClaims(), sub: '' }),
      message: 'token has no subject',
    },
    {
      name: 'a token without exp',
      token: () => {
        const { exp: _exp, ...claims } = validClaims();
        return signLocal(claims);
      },
      message: 'token has no valid expiry',
    },
    {
      name: 'a token not valid before a future time',
      token: () => signLocal({ ...validClaims(), nbf: nowSeconds() + 600 }),
      message: 'token is not yet valid',
    },
    {
      name: 'a token whose signature was tampered with',
      token: async () => {
        const token = await issueToken(auth, { subject: 'alice', roles: ['VIEWER'], ttlSeconds: 60 });
        const [h, p, s] = token.split('.');
        const sig = Buffer.from(s, 'base64url');
        sig[0] ^= 0xff;
        return `${h}.${p}.${sig.toString('base64url')}`;
      },
      message: 'token signature is invalid',
    },
    {
      name: 'a token whose claims were changed after signing',
      token: async () => {
        const token = await issueToken(auth, { subject: 'alice', roles: ['VIEWER'], ttlSeconds: 60 });
        const [h, , s] = token.split('.');
        return `${h}.${b64url({ ...validClaims(), roles: ['SECURITY_ADMIN'] })}.${s}`;
      },
      message: 'token signature is invalid',
    },
    {
      name: 'a token signed by the core key whose exp is ten years away',
      token: () => signLocal({ ...validClaims(), exp: nowSeconds() + 10 * 365 * 86_400 }),
      message: 'token lifetime is longer than the 30 days this core allows',
    },
    {
      name: 'a token whose lifetime is 30 days and one second',
      token: () => {
        const iat = nowSeconds();
        return signLocal({ ...validClaims(), iat, exp: iat + MAX_TTL_SECONDS + 1 });
      },
      message: 'token lifetime is longer than the 30 days this core allows',
    },
    {
      name: 'a token without iat',
      token: () => {
        const { iat: _iat, ...claims } = validClaims();
        return signLocal(claims);
      },
      message: 'token has no issue time',
    },
    {
      name: 'a token without iat and with exp ten years away',
      token: () => {
        const { iat: _iat, ...claims } = validClaims();
        return signLocal({ ...claims, exp: nowSeconds() + 10 * 365 * 86_400 });
      },
      message: 'token has no issue time',
    },
    {
      // Otherwise a future iat would stretch a short lifetime ten years ahead of now.
      name: 'a token issued ten years in the future with a lifetime of ten minutes',
      token: () => {
        const iat = nowSeconds() + 10 * 365 * 86_400;
        return signLocal({ ...validClaims(), iat, exp: iat + 600 });
      },
      message: 'token issue time is invalid',
    },
    {
      name: 'a token whose iat is not a number',
      token: () => signLocal({ ...validClaims(), iat: 'yesterday' }),
      message: 'token issue time is invalid',
    },
    { name: 'a string that is not a JWT', token: async () => 'not-a-jwt', message: 'token is malformed' },
    { name: 'an empty string', token: async () => '', message: 'missing bearer token' },
    { name: 'an oversized token', token: async () => 'a'.repeat(20_000), message: 'token is malformed' },
  ];

  it.each(rejected)('rejects $name', async ({ token, message }) => {
    const t = await token();
    await expectAuthError(verifier.verify(t), message, t || undefined);
  });

  it('a token signed by the core key with a lifetime of exactly 30 days is accepted', async () => {
    const iat = nowSeconds();
    const token = await signLocal({ ...validClaims(), iat, exp: iat + 30 * 86_400 });
    const caller = await verifier.verify(token);
    expect(caller.subject).toBe('alice');
    expect(caller.expiresAt.getTime()).toBe((iat + 30 * 86_400) * 1000);
  });

  it('a token expired within the 5 s clock tolerance is still accepted', async () => {
    const token = await signLocal({ ...validClaims(), exp: nowSeconds() - 2 });
    expect((await verifier.verify(token)).subject).toBe('alice');
  });

  it.each([
    { name: 'unknown role names are dropped', roles: ['VIEWER', 'ROOT', 42, 'viewer'], expected: ['VIEWER'] },
    { name: 'a single role as a string is accepted', roles: 'SECURITY_ADMIN', expected: ['SECURITY_ADMIN'] },
    { name: 'an unknown single role gives no roles', roles: 'ROOT', expected: [] },
    { name: 'a missing roles claim gives no roles', roles: undefined, expected: [] },
    { name: 'a non-string, non-array roles claim gives no roles', roles: { admin: true }, expected: [] },
    { name: 'duplicate roles are kept once', roles: ['VIEWER', 'VIEWER'], expected: ['VIEWER'] },
  ])('$name', async ({ roles, expected }) => {
    const token = await signLocal({ ...validClaims(), roles });
    expect((await verifier.verify(token)).roles).toEqual(expected);
  });

  it.each([
    { name: 'below 60 s', ttlSeconds: 59 },
    { name: 'above 30 days', ttlSeconds: 30 * 86400 + 1 },
    { name: 'fractional', ttlSeconds: 90.5 },
  ])('issueToken refuses a ttl $name', async ({ ttlSeconds }) => {
    await expect(issueToken(auth, { subject: 'alice', roles: [], ttlSeconds })).rejects.toThrow(/from 60 .*\(30d\)/);
  });

  it('issueToken accepts the ttl bounds 60 s and 30 days', async () => {
    for (const ttlSeconds of [60, 30 * 86400]) {
      const token = await issueToken(auth, { subject: 'alice', roles: [], ttlSeconds });
      expect((await verifier.verify(token)).subject).toBe('alice');
    }
  });

  describe('the cache of verified tokens', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('refuses a cached token once it has expired', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const start = new Date('2026-01-01T00:00:00Z');
      vi.setSystemTime(start);
      const cached = await createTokenVerifier(auth);
      const token = await issueToken(auth, { subject: 'alice', roles: ['VIEWER'], ttlSeconds: 60, now: start });
      expect((await cached.verify(token)).subject).toBe('alice');
      expect(cached.cachedTokens).toBe(1);
      // A cache hit within the lifetime gives the same caller.
      vi.setSystemTime(start.getTime() + 59_000);
      expect(await cached.verify(token)).toEqual({ subject: 'alice', roles: ['VIEWER'], expiresAt: new Date(start.getTime() + 60_000) });
      // Past exp and the clock tolerance: refused although it was cached, and forgotten.
      vi.setSystemTime(start.getTime() + 66_000);
      await expectAuthError(cached.verify(token), 'token expired', token);
      expect(cached.cachedTokens).toBe(0);
    });

    it('does not cache a token accepted only within the clock tolerance after its exp', async () => {
      const token = await signLocal({ ...validClaims(), exp: nowSeconds() - 2 });
      const cached = await createTokenVerifier(auth);
      expect((await cached.verify(token)).subject).toBe('alice');
      expect(cached.cachedTokens).toBe(0);
    });

    it('is bounded (least recently used evicted first), and never holds a refused token', async () => {
      const cached = await createTokenVerifier(auth, { cacheSize: 3 });
      const tokens = await Promise.all(
        Array.from({ length: 5 }, (_, i) => issueToken(auth, { subject: `user-${i}`, roles: [], ttlSeconds: 600 })),
      );
      for (const t of tokens) await cached.verify(t);
      expect(cached.cachedTokens).toBe(3);
      // A refused token is never cached.
      await expect(cached.verify(`${tokens[0]!.slice(0, -4)}AAAA`)).rejects.toBeInstanceOf(AuthError);
      expect(cached.cachedTokens).toBe(3);
    });

    it('cacheSize 0 turns it off', async () => {
      const uncached = await createTokenVerifier(auth, { cacheSize: 0 });
      const token = await issueToken(auth, { subject: 'alice', roles: [], ttlSeconds: 600 });
      expect((await uncached.verify(token)).subject).toBe('alice');
      expect(uncached.cachedTokens).toBe(0);
    });
  });

  it('issueToken refuses external mode: tokens come from the identity provider', async () => {
    const external: AuthConfig = { ...auth, mode: 'external', jwksUrl: 'http://127.0.0.1:1/jwks' };
    await expect(issueToken(external, { subject: 'alice', roles: [], ttlSeconds: 60 })).rejects.toThrow(/identity provider/);
  });
});

describe('parseBearer', () => {
  it.each([
    { header: 'Bearer abc.def.ghi', token: 'abc.def.ghi' },
    { header: 'bearer abc.def.ghi', token: 'abc.def.ghi' },
    { header: 'BEARER abc-_.def~+/=', token: 'abc-_.def~+/=' },
    { header: '  Bearer   abc.def.ghi  ', token: 'abc.def.ghi' },
  ])('accepts "$header"', ({ header, token }) => {
    expect(parseBearer(header)).toBe(token);
  });

  it.each([
    { name: 'no header', header: undefined },
    { name: 'an empty header', header: '' },
    { name: 'the scheme alone', header: 'Bearer' },
    { name: 'the scheme and a space', header: 'Bearer ' },
    { name: 'the Basic scheme', header: 'Basic dXNlcjpwYXNz' },
    { name: 'a token without a scheme', header: 'abc.def.ghi' },
    { name: 'two tokens', header: 'Bearer abc def' },
    { name: 'a comma-joined token', header: 'Bearer abc,def' },
    { name: 'a scheme glued to the token', header: 'Bearerabc.def.ghi' },
  ])('rejects $name as a missing bearer token', ({ header }) => {
    expect(() => parseBearer(header)).toThrow(AuthError);
    expect(() => parseBearer(header)).toThrow('missing bearer token');
  });
});

describe('bearerOfConnectionParams', () => {
  it.each<{ name: string; params: Record<string, unknown> | null | undefined; header: string | undefined }>([
    { name: 'authorization', params: { authorization: 'Bearer t1' }, header: 'Bearer t1' },
    { name: 'Authorization, as snippets write the header', params: { Authorization: 'Bearer t1' }, header: 'Bearer t1' },
    { name: 'AUTHORIZATION', params: { AUTHORIZATION: 'Bearer t1' }, header: 'Bearer t1' },
    { name: 'token, bare', params: { token: 't2' }, header: 'Bearer t2' },
    { name: 'Token', params: { Token: 't2' }, header: 'Bearer t2' },
    { name: 'authorization before token', params: { token: 't2', Authorization: 'Bearer t1' }, header: 'Bearer t1' },
    { name: 'the same value under two spellings', params: { authorization: 'Bearer t1', Authorization: 'Bearer t1' }, header: 'Bearer t1' },
    { name: 'a non-string authorization, then token', params: { Authorization: { bearer: 't1' }, token: 't2' }, header: 'Bearer t2' },
    { name: 'no params', params: undefined, header: undefined },
    { name: 'null params', params: null, header: undefined },
    { name: 'other names only', params: { authToken: 't3', headers: { Authorization: 'Bearer t3' } }, header: undefined },
  ])('$name → $header', ({ params, header }) => {
    expect(bearerOfConnectionParams(params)).toBe(header);
  });

  it.each([
    { name: 'authorization', params: { authorization: 'Bearer t1', Authorization: 'Bearer t9' } },
    { name: 'token', params: { token: 't1', TOKEN: 't9' } },
  ])('refuses $name given twice with different values, rather than pick one', ({ name, params }) => {
    expect(() => bearerOfConnectionParams(params)).toThrow(AuthError);
    expect(() => bearerOfConnectionParams(params)).toThrow(`connectionParams name ${name} more than once, with different values`);
  });
});

describe('loadOrCreateSigningKey', () => {
  it('creates the key file with mode 0600 and reuses it on the next load', async () => {
    const dir = join(await tempDir(), 'nested', 'data');
    const first = await loadOrCreateSigningKey(dir);
    const file = join(dir, 'jwt-signing-key.pem');
    expect(first.created).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(first.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const second = await loadOrCreateSigningKey(dir);
    expect(second.created).toBe(false);
    expect(second.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      first.publicKey.export({ type: 'spki', format: 'der' }),
    );
  });

  it('concurrent loads on a fresh directory agree on one key', async () => {
    const dir = join(await tempDir(), 'fresh');
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSigningKey(dir)));
    const keys = new Set(results.map((r) => r.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')));
    expect(keys.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('refuses a key file that is not an EC P-256 PKCS#8 key, without printing it', async () => {
    const dir = await tempDir();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await writeFile(join(dir, 'jwt-signing-key.pem'), pem, { mode: 0o600 });
    const err = await loadOrCreateSigningKey(dir).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/not a PKCS#8 PEM EC P-256 private key/);
    expect((err as Error).message).not.toContain('PRIVATE KEY-----');
  });
});

describe('external mode (JWKS)', () => {
  const { privateKey: rsaKey, publicKey: rsaPublic } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let server: Server;
  let jwksUrl: string;
  let jwksStatus = 200;

  beforeAll(async () => {
    const jwk: JWK = { ...(await exportJWK(rsaPublic)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      if (req.url !== '/jwks' || jwksStatus !== 200) {
        res.writeHead(jwksStatus === 200 ? 404 : jwksStatus).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterEach(() => {
    jwksStatus = 200;
  });

  const externalAuth = (url: string): AuthConfig => ({
    mode: 'external',
    issuer: 'https://idp.example',
    audience: 'certfleet',
    algorithms: ['RS256'],
    jwksUrl: url,
    rolesClaim: 'roles',
    dataDir: '/nonexistent-never-used',
  });

  function idpToken(alg = 'RS256', kid = 'k1', claims: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: 'https://idp.example',
      aud: 'certfleet',
      sub: 'carol@example',
      iat: now,
      exp: now + 600,
      roles: ['SECURITY_ADMIN', 'other-app-admin'],
      ...claims,
    })
      .setProtectedHeader({ alg, kid })
      .sign(rsaKey);
  }

  it('accepts a token signed by a key in the identity provider JWKS', async () => {
    const verifier = await createTokenVerifier(externalAuth(jwksUrl));
    const caller = await verifier.verify(await idpToken());
    expect(caller).toMatchObject({ subject: 'carol@example', roles: ['SECURITY_ADMIN'] });
  });

  it('rejects a token whose alg is not in the configured list, before fetching keys', async () => {
    const verifier = await createTokenVerifier(externalAuth(jwksUrl));
    await expectAuthError(verifier.verify(await idpToken('RS384')), 'token algorithm is not accepted');
  });

  it('keeps its own checks: a token without iat and with exp ten years away is accepted from the identity provider', async () => {
    const verifier = await createTokenVerifier(externalAuth(jwksUrl));
    const exp = Math.floor(Date.now() / 1000) + 10 * 365 * 86_400;
    const token = await idpToken('RS256', 'k1', { iat: undefined, exp });
    expect(decodeJwt(token).iat).toBeUndefined();
    const caller = await verifier.verify(token);
    expect(caller.subject).toBe('carol@example');
    expect(caller.expiresAt.getTime()).toBe(exp * 1000);
  });

  it('rejects a token whose kid is not in the JWKS', async () => {
    const verifier = await createTokenVerifier(externalAuth(jwksUrl));
    await expectAuthError(verifier.verify(await idpToken('RS256', 'unknown-kid')), 'token signing key is not known');
  });

  it('rejects a token for another audience', async () => {
    const verifier = await createTokenVerifier(externalAuth(jwksUrl));
    await expectAuthError(verifier.verify(await idpToken('RS256', 'k1', { aud: 'someone-else' })), 'token audience is not accepted');
  });

  it('turns an unreachable JWKS into an AuthError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const verifier = await createTokenVerifier(externalAuth(`http://127.0.0.1:${port}/jwks`));
    await expectAuthError(verifier.verify(await idpToken()), 'cannot verify token: identity provider keys unavailable');
  });

  it('turns a failing JWKS endpoint into an AuthError', async () => {
    jwksStatus = 503;
    const verifier = await createTokenVerifier(externalAuth(jwksUrl));
    await expectAuthError(verifier.verify(await idpToken()), 'cannot verify token: identity provider keys unavailable');
  });

  it('ignores a local signing key: a locally issued token is not accepted in external mode', async () => {
    const local = localAuth(await tempDir());
    const token = await issueToken(local, { subject: 'alice', roles: ['SECURITY_ADMIN'], ttlSeconds: 60 });
    const verifier = await createTokenVerifier({ ...externalAuth(jwksUrl), issuer: local.issuer, audience: local.audience });
    await expectAuthError(verifier.verify(token), 'token algorithm is not accepted');
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['8h', 28_800],
    ['7d', 604_800],
    ['3600', 3600],
    [' 30m ', 1800],
  ])('reads %j as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'abc', '1.5h', '-5m', '8w', '8 h', 'h', '10M', '1e3'])('rejects %j with a clear message', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration .*s, m, h or d/);
  });
});
