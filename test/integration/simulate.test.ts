import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulateCli, type SimulateCliIo } from '../../src/cli/simulate.js';
import { runSimulation, type SimulationProgress, type SimulationResult } from '../../src/simulator/simulation.js';
import { DevicesDocument, SummaryDocument } from '../generated/graphql.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

const run = promisify(execFile);
const projectRoot = join(import.meta.dirname, '..', '..');

describe('agent simulator against a real core', () => {
  let tc: TestCore;
  let admin: string;
  let result: SimulationResult;
  const progress: SimulationProgress[] = [];

  beforeAll(async () => {
    tc = await startTestCore();
    admin = await tc.token('simulate-test', ['SECURITY_ADMIN']);
    // 30 agents: 3 of each special part, 18 healthy; two rounds, so every part also reconnects once.
    result = await runSimulation(
      {
        graphqlUrl: tc.url,
        agentUrl: tc.core.agentUrl,
        token: () => tc.token('simulator', ['SECURITY_ADMIN']),
        agents: 30,
        mix: { old: 0.1, neverApproved: 0.1, revoked: 0.1, neverConnect: 0.1 },
        concurrency: 8,
        approveBatch: 10,
        approveWaitMs: 100,
        rounds: 2,
        intervalMs: 200,
        progressIntervalMs: 50,
        agentIdPrefix: 'simtest',
        seed: 42,
      },
      (p) => progress.push(p),
    );
  });
  afterAll(async () => {
    await tc?.close();
  });

  it('plays every part without an unexpected error', () => {
    expect(result.errors).toEqual([]);
    expect(result.interrupted).toBe(false);
    expect(result.mix).toEqual({ healthy: 18, old: 3, neverApproved: 3, revoked: 3, neverConnect: 3 });
    expect(result.outcomes).toEqual({ succeeded: 18, mustUpgrade: 3, notApproved: 3, revoked: 3, neverConnected: 3, error: 0, cancelled: 0, notRun: 0 });
    // connect + scan-results per round; a revoked agent connects once more, right after its revocation.
    expect(result.connectionsByRole).toEqual({ healthy: 18 * 4, old: 3 * 4, neverApproved: 3 * 4, revoked: 3 * 6, neverConnect: 0 });
    // 24 requests to approve (healthy, revoked, never connect), at most 10 per approveClients call.
    expect(result.approvalBatches.largest).toBeLessThanOrEqual(10);
    expect(result.approvalBatches.calls).toBeGreaterThanOrEqual(3);
    expect(result.ok).toBe(true);
  });

  it("leaves the core's chart exactly where the mix says", async () => {
    // Before: the core server itself, under No authentication info.
    expect(result.summaryBefore).toEqual({ total: 1, succeeded: 0, noAuthenticationInfo: 1, failed: 0, mustUpgrade: 0 });
    const expected = { total: 31, succeeded: 18, noAuthenticationInfo: 1 + 3, failed: 3 + 3, mustUpgrade: 3 };
    expect(result.summaryExpected).toEqual(expected);
    expect(result.summaryAfter).toEqual(expected);
    expect(result.summaryMatches).toBe(true);
    // Read again here, not through the simulator.
    const summary = await tc.gql(SummaryDocument, {}, admin);
    expect(summary.errors).toBeUndefined();
    const s = summary.data!.authStatusSummary;
    expect({ total: s.total, succeeded: s.succeeded, noAuthenticationInfo: s.noAuthenticationInfo, failed: s.failed, mustUpgrade: s.mustUpgrade }).toEqual(expected);
  });

  it('gives each simulated device the status and reason of its part', async () => {
    const res = await tc.gql(DevicesDocument, { filter: { search: 'simtest-' }, first: 100 }, admin);
    expect(res.errors).toBeUndefined();
    const devices = res.data!.devices.edges.map((e) => e.node);
    expect(devices).toHaveLength(30);
    const tally = new Map<string, number>();
    for (const d of devices) {
      const key = `${d.authStatus}/${d.failureReason ?? '-'}/${d.lastConnection?.source ?? 'none'}/${d.agentVersion}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(tally)).toEqual({
      'AUTHENTICATION_SUCCEEDED/-/SECURITY_SCANNER/2024.1': 18,
      'CLIENT_AGENTS_MUST_UPGRADE/-/SECURITY_SCANNER/9.60': 3,
      'AUTHENTICATION_FAILED/CERTIFICATE_NOT_APPROVED/SECURITY_SCANNER/2024.1': 3,
      'AUTHENTICATION_FAILED/CERTIFICATE_REVOKED/SECURITY_SCANNER/2024.1': 3,
      'NO_AUTHENTICATION_INFO/-/none/2024.1': 3,
    });
  });

  it('reports progress while it runs and once at the end', () => {
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const last = progress.at(-1)!;
    expect(last).toEqual(result.progress);
    expect(last).toMatchObject({ agents: 30, started: 30, finished: 30, enrolled: 27, approved: 24, connected: 21, failedAsExpected: 9, revoked: 3, errors: 0 });
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.finished).toBeGreaterThanOrEqual(progress[i - 1]!.finished);
      expect(progress[i]!.elapsedMs).toBeGreaterThanOrEqual(progress[i - 1]!.elapsedMs);
    }
  });

  it('never writes a token or a private key into the result', () => {
    const text = JSON.stringify(result);
    expect(text).not.toMatch(/PRIVATE KEY|eyJ[A-Za-z0-9_-]{10,}\./);
  });
});

describe('npm run simulate: the command line', () => {
  function io(env: Record<string, string | undefined> = {}): SimulateCliIo & { stdout: string; stderr: string } {
    const o = {
      stdout: '',
      stderr: '',
      isTTY: false,
      env,
      out(t: string) {
        o.stdout += t;
      },
      err(t: string) {
        o.stderr += t;
      },
    };
    return o;
  }

  it('exits 2 on a bad command line, as a process', async () => {
    const err = await run('npx', ['tsx', 'src/cli/simulate.ts', '--agents', 'many'], { cwd: projectRoot }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/--agents must be a whole number/);
  });

  it.each([
    [['--agents', '0'], /--agents must be a whole number from 1/],
    [['--agents', '10', '--bogus'], /Unknown option '--bogus'/],
    [['--old-agents', '60%', '--revoked', '0.5'], /add up to 110.0 %/],
    [['--never-connect=-0.1'], /--never-connect must be a share/],
    [['--approve-batch', '501'], /--approve-batch must be a whole number from 1 to 500/],
    [['--interval', 'soon'], /--interval must be a duration/],
    [['--agent-url', 'http://127.0.0.1:4443'], /--agent-url must be a https URL/],
    [['--prefix=-x'], /--prefix must be/],
    [['--token', 'not a token'], /is not a JWT/],
    [['stray'], /Unexpected argument 'stray'/],
  ])('exits 2 on %j', async (args, message) => {
    const o = io();
    expect(await runSimulateCli(args, o)).toBe(2);
    expect(o.stderr).toMatch(message);
    expect(o.stdout).toBe('');
  });

  it('prints its usage with --help', async () => {
    const o = io();
    expect(await runSimulateCli(['--help'], o)).toBe(0);
    expect(o.stdout).toMatch(/^Usage: npm run simulate -- --agents N/);
  });

  it('exits 1 with one line when no core answers', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const o = io({ CERTFLEET_TOKEN: 'aaa.bbb.ccc' });
    const code = await runSimulateCli(['--agents', '1', '--graphql-url', `http://127.0.0.1:${port}/graphql`, '--agent-url', `https://127.0.0.1:${port}`], o);
    expect(code).toBe(1);
    expect(o.stderr).toMatch(/ECONNREFUSED|is the core running/);
    expect(o.stderr).not.toContain('aaa.bbb.ccc');
  });
});
