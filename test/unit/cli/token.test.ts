import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createTokenVerifier } from '../../../src/server/auth.js';

const run = promisify(execFile);
const projectRoot = join(import.meta.dirname, '..', '..', '..');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('token CLI', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'certfleet-token-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  // Only DATA_DIR is set so the developer's own auth settings cannot leak into the run.
  function env(): NodeJS.ProcessEnv {
    const { AUTH_JWKS_URL: _a, AUTH_ISSUER: _b, AUTH_AUDIENCE: _c, AUTH_ROLES_CLAIM: _d, AUTH_ALGORITHMS: _e, ...rest } = process.env;
    return { ...rest, DATA_DIR: dataDir };
  }

  async function cli(...args: string[]): Promise<CliResult> {
    try {
      const { stdout, stderr } = await run('npx', ['tsx', 'src/cli/token.ts', ...args], { cwd: projectRoot, env: env() });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout: string; stderr: string };
      return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('prints exactly one JWT line that the server verifier accepts', async () => {
    const result = await cli('--subject', 'ops-script', '--role', 'SECURITY_ADMIN', '--role', 'VIEWER', '--ttl', '15m');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    const token = result.stdout.trimEnd();
    const verifier = await createTokenVerifier(loadConfig({ DATA_DIR: dataDir }).auth);
    const caller = await verifier.verify(token);
    expect(caller.subject).toBe('ops-script');
    expect(caller.roles).toEqual(['SECURITY_ADMIN', 'VIEWER']);
    const claims = decodeJwt(token);
    expect(claims.exp! - claims.iat!).toBe(900);
  });

  it('defaults to role VIEWER and an 8 h lifetime, and accepts comma-separated roles', async () => {
    const plain = await cli('--subject', 'dashboard');
    expect(plain.code).toBe(0);
    const claims = decodeJwt(plain.stdout.trimEnd());
    expect(claims.roles).toEqual(['VIEWER']);
    expect(claims.exp! - claims.iat!).toBe(8 * 3600);

    const joined = await cli('--subject', 'dashboard', '--role', 'VIEWER,SECURITY_ADMIN');
    expect(decodeJwt(joined.stdout.trimEnd()).roles).toEqual(['VIEWER', 'SECURITY_ADMIN']);
  });

  it.each([
    { name: 'an unknown role', args: ['--subject', 'x', '--role', 'ROOT'], stderr: /unknown role "ROOT"/ },
    { name: 'a missing subject', args: ['--role', 'VIEWER'], stderr: /--subject is required/ },
    { name: 'an unknown option', args: ['--subject', 'x', '--admin'], stderr: /--admin/ },
    { name: 'a bad ttl', args: ['--subject', 'x', '--ttl', 'soon'], stderr: /invalid duration/ },
    { name: 'a ttl under a minute', args: ['--subject', 'x', '--ttl', '30s'], stderr: /token lifetime/ },
  ])('fails with exit code 2, one stderr line and empty stdout on $name', async ({ args, stderr }) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^certfleet token: [^\n]+\n$/);
    expect(result.stderr).toMatch(stderr);
  });

  it('prints usage on --help and exits 0', async () => {
    const result = await cli('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run token/);
  });
});
