import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createTokenVerifier } from '../../../src/server/auth.js';
import { consoleLink } from '../../../src/cli/token.js';

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

  // Only DATA_DIR (and where the core listens) is set so the developer's own settings cannot leak into the run.
  function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const { AUTH_JWKS_URL: _a, AUTH_ISSUER: _b, AUTH_AUDIENCE: _c, AUTH_ROLES_CLAIM: _d, AUTH_ALGORITHMS: _e, HOST: _f, PORT: _g, ...rest } = process.env;
    return { ...rest, DATA_DIR: dataDir, ...extra };
  }

  async function cli(...args: string[]): Promise<CliResult> {
    return cliWith({}, ...args);
  }

  async function cliWith(extraEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
    try {
      const { stdout, stderr } = await run('npx', ['tsx', 'src/cli/token.ts', ...args], { cwd: projectRoot, env: env(extraEnv) });
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
    expect(result.stdout).toContain('--console');
  });

  it('--console prints a sign-in link to the core at HOST:PORT, the token in its fragment, for 1 h by default', async () => {
    const result = await cliWith({ PORT: '4100' }, '--subject', 'admin', '--role', 'SECURITY_ADMIN', '--console');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const match = /^http:\/\/127\.0\.0\.1:4100\/#token=([A-Za-z0-9_.-]+)\n$/.exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    const token = match![1];
    const caller = await (await createTokenVerifier(loadConfig({ DATA_DIR: dataDir }).auth)).verify(token);
    expect(caller).toMatchObject({ subject: 'admin', roles: ['SECURITY_ADMIN'] });
    const claims = decodeJwt(token);
    expect(claims.exp! - claims.iat!).toBe(3600);

    const longer = await cliWith({ PORT: '4100' }, '--subject', 'admin', '--console', '--ttl', '15m');
    const longerClaims = decodeJwt(/#token=(.+)\n$/.exec(longer.stdout)![1]);
    expect(longerClaims.exp! - longerClaims.iat!).toBe(900);
  });

  it('--console links to the loopback address of a core listening on every address', async () => {
    const all = await cliWith({ HOST: '0.0.0.0', PORT: '4000' }, '--subject', 'admin', '--console');
    expect(all.stdout).toMatch(/^http:\/\/127\.0\.0\.1:4000\/#token=/);
    const all6 = await cliWith({ HOST: '::', PORT: '4000' }, '--subject', 'admin', '--console');
    expect(all6.stdout).toMatch(/^http:\/\/\[::1\]:4000\/#token=/);
  });

  it('consoleLink writes IPv6 hosts in brackets and names as they are', () => {
    expect(consoleLink('::1', 4000, 'a.b.c')).toBe('http://[::1]:4000/#token=a.b.c');
    expect(consoleLink('::', 4000, 'a.b.c')).toBe('http://[::1]:4000/#token=a.b.c');
    expect(consoleLink('0.0.0.0', 8080, 'a.b.c')).toBe('http://127.0.0.1:8080/#token=a.b.c');
    expect(consoleLink('core.example.org', 80, 'a.b.c')).toBe('http://core.example.org:80/#token=a.b.c');
  });

  it('--console with PORT=0 says there is no link to print, and issues nothing', async () => {
    const result = await cliWith({ PORT: '0' }, '--subject', 'admin', '--console');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^certfleet token: PORT is 0 [^\n]+\n$/);
  });
});
