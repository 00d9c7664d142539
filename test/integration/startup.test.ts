import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILT_START, ROOT } from '../support/built-server.js';

// A guard against a hang, not a speed check: five starts at once on a busy 2-core machine take a while.
const TIMEOUT_MS = 90_000;

// Settings of the surrounding shell (e.g. DATABASE_URL for the PostgreSQL run) must not leak into the child.
const OWN_SETTINGS = /^(DATA_DIR|DATABASE_URL|PORT|AGENT_PORT|HOST|CA_KEY_PASSPHRASE|CORE_NAME|LOG_LEVEL|AUTH_.*)$/;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** runStart runs the compiled server (what npm start runs) as an operator would, and waits (bounded) for it to exit. */
async function runStart(env: Record<string, string>): Promise<Exit> {
  const dataDir = await mkdtemp(join(tmpdir(), 'certfleet-startup-'));
  dirs.push(dataDir);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !OWN_SETTINGS.test(k)));
  const child = spawn(process.execPath, [BUILT_START], {
    cwd: ROOT,
    env: { ...base, DATA_DIR: dataDir, PORT: '0', AGENT_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<Exit>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`start did not exit within ${TIMEOUT_MS} ms; stderr so far: ${stderr}`));
    }, TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** expectOneLineFailure checks the operator sees exit 1 and exactly one certfleet: line, no stack trace. */
function expectOneLineFailure(exit: Exit): string {
  expect(exit.signal).toBeNull();
  expect(exit.code).toBe(1);
  expect(exit.stderr.endsWith('\n')).toBe(true);
  const lines = exit.stderr.trimEnd().split('\n');
  expect(lines, exit.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^certfleet: /);
  expect(exit.stderr).not.toContain('    at ');
  return lines[0]!;
}

describe('npm start refuses bad settings with one line and exit code 1', () => {
  it.concurrent.each<{ name: string; env: Record<string, string>; check: (line: string) => void }>([
    {
      name: 'an unreachable database',
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' },
      check: (line) => expect(line).toMatch(/^certfleet: cannot reach the database/),
    },
    {
      name: 'a DATABASE_URL that is not postgres://',
      env: { DATABASE_URL: 'mysql://x' },
      check: (line) => expect(line).toContain('DATABASE_URL'),
    },
    {
      name: 'a PORT that is not a number',
      env: { PORT: 'abc' },
      check: (line) => expect(line).toContain('PORT'),
    },
    {
      name: 'a CA_KEY_PASSPHRASE that is too short',
      env: { CA_KEY_PASSPHRASE: 'short' },
      check: (line) => {
        expect(line).toContain('CA_KEY_PASSPHRASE');
        expect(line).not.toContain('short ');
      },
    },
  ])(
    '$name',
    async ({ env, check }) => {
      const line = expectOneLineFailure(await runStart(env));
      check(line);
    },
    TIMEOUT_MS + 5_000,
  );

  it.concurrent('an unreachable database URL is reported without its password', async () => {
    const exit = await runStart({ DATABASE_URL: 'postgres://nobody:s3cret-pw@127.0.0.1:1/x' });
    const line = expectOneLineFailure(exit);
    expect(line).toMatch(/^certfleet: cannot reach the database/);
    expect(exit.stderr + exit.stdout).not.toContain('s3cret-pw');
  }, TIMEOUT_MS + 5_000);
});

describe('npm start on the embedded database', () => {
  it('serves, then stops in order on SIGTERM and exits 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'certfleet-startup-'));
    dirs.push(dataDir);
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !OWN_SETTINGS.test(k)));
    const child = spawn(process.execPath, [BUILT_START], {
      cwd: ROOT,
      // NODE_ENV=test (set by vitest) would hide signal handling that differs outside tests.
      env: { ...base, NODE_ENV: 'production', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start within ${TIMEOUT_MS} ms: ${stderr}`)), TIMEOUT_MS);
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          // How to open the console is the last line of a start: everything before it has been printed too.
          const m = /GraphQL API at (http:\/\/\S+)/.exec(stderr);
          if (m && /Open the console/.test(stderr)) {
            clearTimeout(timer);
            resolveUrl(m[1]!);
          }
        });
      });
      expect(stderr).toMatch(/npm run token -- --subject \S+ --role SECURITY_ADMIN/);
      expect(stderr).toMatch(/Open the console: npm run token -- --subject \S+ --role SECURITY_ADMIN --console, then open the printed link/);
      // The start says how to make a sign-in link; it never prints a token (a JWT) itself.
      expect(stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
      expect((await fetch(url.replace('/graphql', '/healthz'))).status).toBe(200);
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/stopping: HTTP server[\s\S]*stopping: database[\s\S]*stopped/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
