import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SignJWT,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  errors,
  exportJWK,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import type { AuthConfig } from '../config.js';
import { isRole, type Role } from '../domain/roles.js';
import type { Caller } from '../services/caller.js';

export type { Caller };

/** TokenVerifier checks a bearer token and returns its caller, or throws AuthError. */
export interface TokenVerifier {
  verify(token: string): Promise<Caller & { expiresAt: Date }>;
}

/** AuthError is a rejected credential; its message is safe to show to the caller (no token, no key material). */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly code = 'UNAUTHENTICATED' as const;
}

const SIGNING_KEY_FILE = 'jwt-signing-key.pem';
const LOCAL_ALGORITHM = 'ES256';
const CLOCK_TOLERANCE_SECONDS = 5;
const MIN_TTL_SECONDS = 60;
/** MAX_TTL_SECONDS is the longest lifetime (exp − iat) of a token of the core's own: issued, and accepted. */
export const MAX_TTL_SECONDS = 30 * 24 * 3600;
// Far above any real JWT; stops a huge header from costing a parse and a signature check.
const MAX_TOKEN_LENGTH = 16 * 1024;
const KEYS_UNAVAILABLE = 'cannot verify token: identity provider keys unavailable';
/** TOKEN_CACHE_SIZE is how many verified tokens a verifier remembers (a console polls with the same token). */
export const TOKEN_CACHE_SIZE = 10_000;

/** parseBearer extracts the token of an `Authorization: Bearer <token>` header (RFC 6750). */
export function parseBearer(header: string | undefined): string {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header?.trim() ?? '');
  if (!match) throw new AuthError('missing bearer token');
  return match[1];
}

/**
 * bearerOfConnectionParams reads the credential of a graphql-ws connection_init: its authorization
 * ('Bearer <token>', as the HTTP header) or its token (the bare token), each named in any case
 * (Authorization, AUTHORIZATION), since browser snippets spell it as the header is usually
 * written. Returns the Authorization header form for parseBearer, undefined when neither is there.
 * A name given twice in different cases with different values is refused, not guessed between.
 */
export function bearerOfConnectionParams(params: Readonly<Record<string, unknown>> | null | undefined): string | undefined {
  const values = { authorization: new Set<string>(), token: new Set<string>() };
  for (const [name, value] of Object.entries(params ?? {})) {
    const key = name.toLowerCase();
    if ((key === 'authorization' || key === 'token') && typeof value === 'string') values[key].add(value);
  }
  for (const [key, found] of Object.entries(values)) {
    if (found.size > 1) throw new AuthError(`connectionParams name ${key} more than once, with different values`);
  }
  const [authorization] = values.authorization;
  if (authorization !== undefined) return authorization;
  const [token] = values.token;
  return token === undefined ? undefined : `Bearer ${token}`;
}

/** parseDuration reads '90s', '15m', '8h', '7d' or a plain number of seconds, and returns seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,12})([smhd]?)$/.exec(text.trim());
  if (!match) {
    throw new Error(`invalid duration "${text}": use a whole number of seconds or a number followed by s, m, h or d (e.g. 15m, 8h, 7d)`);
  }
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** loadOrCreateSigningKey returns the core's EC P-256 token signing key, creating it on first start. */
export async function loadOrCreateSigningKey(
  dataDir: string,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject; created: boolean }> {
  const file = join(dataDir, SIGNING_KEY_FILE);
  try {
    const existing = await readSigningKey(file);
    return { privateKey: existing, publicKey: createPublicKey(existing), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  try {
    // Exclusive create: of several processes starting at once, exactly one writes the key and the rest read it.
    await writeFile(file, pem, { flag: 'wx', mode: 0o600 });
    return { privateKey, publicKey: createPublicKey(privateKey), created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const existing = await readSigningKey(file);
  return { privateKey: existing, publicKey: createPublicKey(existing), created: false };
}

// The winner of the exclusive create may still be writing, so a short or empty file is retried briefly.
async function readSigningKey(file: string): Promise<KeyObject> {
  for (let attempt = 0; ; attempt++) {
    const pem = await readFile(file, 'utf8');
    if (pem.includes('-----END PRIVATE KEY-----')) {
      let key: KeyObject;
      try {
        key = createPrivateKey({ key: pem, format: 'pem' });
      } catch {
        break;
      }
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') break;
      return key;
    }
    if (attempt >= 40) break;
    await sleep(50);
  }
  throw new Error(`token signing key ${file} is not a PKCS#8 PEM EC P-256 private key; move it away to create a new one`);
}

/** issueToken signs a local-mode access token for a subject and roles. */
export async function issueToken(
  auth: AuthConfig,
  opts: { subject: string; roles: Role[]; ttlSeconds: number; now?: Date },
): Promise<string> {
  if (auth.mode !== 'local') {
    throw new Error('tokens come from the identity provider in external auth mode (AUTH_JWKS_URL is set); this core does not issue them');
  }
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds < MIN_TTL_SECONDS || opts.ttlSeconds > MAX_TTL_SECONDS) {
    throw new RangeError(`token lifetime must be a whole number of seconds from ${MIN_TTL_SECONDS} (1m) to ${MAX_TTL_SECONDS} (30d)`);
  }
  if (opts.subject.length === 0) throw new RangeError('token subject must not be empty');
  const { privateKey, publicKey } = await loadOrCreateSigningKey(auth.dataDir);
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ [auth.rolesClaim]: [...opts.roles] })
    .setProtectedHeader({ alg: LOCAL_ALGORITHM, typ: 'JWT', kid })
    .setIssuer(auth.issuer)
    .setAudience(auth.audience)
    .setSubject(opts.subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .setJti(randomUUID())
    .sign(privateKey);
}

/**
 * createTokenVerifier builds the verifier for the configured mode: the local key or the identity provider's JWKS.
 *
 * It remembers up to cacheSize tokens it has verified (keyed by the token's SHA-256, least recently
 * used evicted first), each only until the token's own exp — never past it, and without the clock
 * tolerance a fresh check allows — so a console polling with one token pays the signature check
 * once. What a cached token yields is what its first check yielded: a token cannot change. cacheSize
 * 0 turns the cache off. (A key the identity provider withdraws stops new tokens at once, and tokens
 * already verified with it at their expiry, as a verifier that fetched the key set before would.)
 */
export async function createTokenVerifier(
  auth: AuthConfig,
  opts: { cacheSize?: number } = {},
): Promise<TokenVerifier & { readonly cachedTokens: number }> {
  const cacheSize = opts.cacheSize ?? auth.tokenCacheSize ?? TOKEN_CACHE_SIZE;
  const common: JWTVerifyOptions = {
    issuer: auth.issuer,
    audience: auth.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  let check: (token: string) => Promise<JWTPayload>;
  if (auth.mode === 'local') {
    const { publicKey } = await loadOrCreateSigningKey(auth.dataDir);
    // Pinned to ES256 whatever the config says: the local key can only make ES256 signatures.
    // maxTokenAge makes jose require iat and refuse one in the future (beyond the clock tolerance).
    const options: JWTVerifyOptions = { ...common, algorithms: [LOCAL_ALGORITHM], typ: 'JWT', maxTokenAge: MAX_TTL_SECONDS };
    check = async (token) => {
      const { payload } = await jwtVerify(token, publicKey, options);
      // A token signed with this key but made to outlive what issueToken allows (say, ten years
      // from a copied key file) is refused: the 30-day limit holds for accepting, not only issuing.
      if ((payload.exp as number) - (payload.iat as number) > MAX_TTL_SECONDS) {
        throw new AuthError(`token lifetime is longer than the ${MAX_TTL_SECONDS / 86_400} days this core allows`);
      }
      return payload;
    };
  } else {
    if (!auth.jwksUrl) throw new Error('external auth mode needs a JWKS URL');
    const jwks = createRemoteJWKSet(new URL(auth.jwksUrl));
    const options: JWTVerifyOptions = { ...common, algorithms: [...auth.algorithms] };
    check = async (token) => (await jwtVerify(token, jwks, options)).payload;
  }

  const cache = new Map<string, Caller & { expiresAt: Date }>();
  return {
    /** How many verified tokens are remembered now (for tests). */
    get cachedTokens() {
      return cache.size;
    },
    async verify(token: string) {
      if (typeof token !== 'string' || token.length === 0) throw new AuthError('missing bearer token');
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('token is malformed');
      const key = cacheSize > 0 ? createHash('sha256').update(token).digest('base64') : '';
      const hit = cacheSize > 0 ? cache.get(key) : undefined;
      if (hit) {
        cache.delete(key);
        if (Date.now() < hit.expiresAt.getTime()) {
          cache.set(key, hit); // most recently used last
          return { ...hit, roles: [...hit.roles] };
        }
        // Past its exp: verified again below, which refuses it (jose's check, with its messages).
      }
      let payload: JWTPayload;
      try {
        payload = await check(token);
      } catch (err) {
        throw toAuthError(err);
      }
      if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new AuthError('token has no subject');
      const caller = {
        subject: payload.sub,
        roles: readRoles(payload[auth.rolesClaim]),
        expiresAt: new Date((payload.exp as number) * 1000),
      };
      // Only until exp: a token accepted within the clock tolerance after its exp is not cached.
      if (cacheSize > 0 && Date.now() < caller.expiresAt.getTime()) {
        cache.set(key, { ...caller, roles: [...caller.roles] });
        if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
      }
      return caller;
    },
  };
}

// Unknown role names are dropped rather than rejected: an identity provider may carry roles for other apps.
function readRoles(value: unknown): Role[] {
  const names = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const roles: Role[] = [];
  for (const name of names) {
    if (isRole(name) && !roles.includes(name)) roles.push(name);
  }
  return roles;
}

const CLAIM_MESSAGES: Record<string, string> = {
  aud: 'token audience is not accepted',
  iss: 'token issuer is not accepted',
  sub: 'token has no subject',
  exp: 'token has no valid expiry',
  nbf: 'token is not yet valid',
  iat: 'token issue time is invalid',
  typ: 'token type is not accepted',
};

// One place turns jose's errors into safe messages; jose messages and payloads never reach the caller.
function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return new AuthError('token expired');
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'iat' && err.reason === 'missing') {
    return new AuthError('token has no issue time');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new AuthError(CLAIM_MESSAGES[err.claim] ?? 'token claims are invalid');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError('token signature is invalid');
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new AuthError('token signature is invalid');
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError('token algorithm is not accepted');
  if (err instanceof errors.JOSENotSupported) return new AuthError('token algorithm is not accepted');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new AuthError('token is malformed');
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthError('token signing key is not known');
  // JWKS fetch failures, timeouts, bad key sets: an infrastructure fault, kept as cause for the server log.
  return new AuthError(KEYS_UNAVAILABLE, { cause: err });
}
