import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/built-server.js';
import { freshDatabase } from '../support/test-core.js';

// What a supervisor, a container runtime or a terminal does to `npm start`: a signal to the npm
// process (the whole group's leader) or to the node process inside it. Either way the server drains
// (SIGTERM: /readyz 503 first), stops in order, exits 0, and leaves no process behind.

const OWN_SETTINGS = /^(DATA_DIR|DATABASE_URL|PORT|AGENT_PORT|HOST|CA_KEY_PASSPHRASE|CORE_NAME|LOG_LEVEL|AUTH_.*|npm_.*)$/;
const DRAIN_MS = 1500;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readyz(base: string): Promise<number | null> {
  try {
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return null;
  }
}

async function until<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${String(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** startNpm runs `npm start` in a process group of its own and waits until /readyz says ready. */
async function startNpm(): Promise<{ npm: ChildProcess; base: string; output: () => string; exited: Promise<number | null> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'certfleet-signals-'));
  const database = await freshDatabase(true);
  cleanups.push(async () => {
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const [port, agentPort] = [await freePort(), await freePort()];
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !OWN_SETTINGS.test(k)));
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: {
      ...base,
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      PORT: String(port),
      AGENT_PORT: String(agentPort),
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  npm.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => npm.once('close', (code) => r(code)));
  cleanups.push(async () => {
    if (groupAlive(npm.pid!)) process.kill(-npm.pid!, 'SIGKILL');
  });
  const url = `http://127.0.0.1:${port}`;
  await until('the core to be ready', () => readyz(url), (s) => s === 200, 90_000);
  return { npm, base: url, output: () => output, exited };
}

describe('signals to npm start', () => {
  it('SIGTERM to the npm process: /readyz turns 503 while draining, then a clean exit and no process left', async () => {
    const { npm, base, output, exited } = await startNpm();
    // Compiled JavaScript under plain node: no tsx in the group.
    const group = execFileSync('ps', ['-o', 'args=', '-g', String(npm.pid)], { encoding: 'utf8' });
    expect(group).toMatch(/node dist\/cli\/start\.js/);
    expect(group).not.toMatch(/tsx/);
    process.kill(npm.pid!, 'SIGTERM');
    expect(await until('/readyz to say draining', () => readyz(base), (s) => s === 503, DRAIN_MS)).toBe(503);
    // Still serving while draining: liveness and GraphQL answer.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(code, output()).toBe(0);
    await until('the process group to be gone', () => groupAlive(npm.pid!), (alive) => !alive, 5_000);
    expect(output()).toMatch(/SIGTERM received: draining for 1500 ms/);
  }, 120_000);

  it('SIGINT to the node process inside: it stops without the drain wait, npm exits 0, no process left', async () => {
    const { npm, output, exited } = await startNpm();
    const node = execFileSync('ps', ['-o', 'pid=', '--ppid', String(npm.pid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    expect(node).toHaveLength(1);
    process.kill(node[0]!, 'SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(code, output()).toBe(0);
    await until('the process group to be gone', () => groupAlive(npm.pid!), (alive) => !alive, 5_000);
    expect(output()).toMatch(/SIGINT received: stopping/);
  }, 120_000);
});
