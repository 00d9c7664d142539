import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthConfig } from '../config.js';
import { issueToken } from '../server/auth.js';

// Where the core keeps its token signing key in DATA_DIR (README, Tokens and roles).
const SIGNING_KEY_FILE = 'jwt-signing-key.pem';
const DEFAULT_TTL_SECONDS = 15 * 60;
// Mint again this long before the current token expires, so no call goes out with a stale one.
const RENEW_BEFORE_MS = 60_000;

/**
 * localAdminTokenSource mints short-lived SECURITY_ADMIN tokens with the core's own key in DATA_DIR,
 * as `npm run token` does (same config, same issueToken), minting a new one shortly before each expires.
 * It refuses when DATA_DIR holds no key rather than create one the running core would not know.
 */
export async function localAdminTokenSource(
  auth: AuthConfig,
  opts: { subject?: string; ttlSeconds?: number } = {},
): Promise<() => Promise<string>> {
  if (auth.mode !== 'local') {
    throw new Error('this core takes tokens from an identity provider (AUTH_JWKS_URL is set): give a SECURITY_ADMIN token with --token or CERTFLEET_TOKEN');
  }
  try {
    await access(join(auth.dataDir, SIGNING_KEY_FILE));
  } catch {
    throw new Error(
      `no token given and DATA_DIR (${auth.dataDir}) holds no core signing key: set DATA_DIR to the core's, or give --token or CERTFLEET_TOKEN`,
    );
  }
  const subject = opts.subject ?? 'certfleet-simulator';
  const ttlSeconds = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  let current: { token: string; expiresAt: number } | null = null;
  let minting: Promise<string> | null = null;
  return () => {
    if (current && current.expiresAt - Date.now() > RENEW_BEFORE_MS) return Promise.resolve(current.token);
    minting ??= (async () => {
      try {
        const expiresAt = Date.now() + ttlSeconds * 1000;
        const token = await issueToken(auth, { subject, roles: ['SECURITY_ADMIN'], ttlSeconds });
        current = { token, expiresAt };
        return token;
      } finally {
        minting = null;
      }
    })();
    return minting;
  };
}
