import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '../support/test-core.js';

const run = promisify(execFile);

/** The worked example of docs/agent-protocol.md, exactly as a reader copies it. */
async function workedExample(): Promise<string> {
  const doc = await readFile(new URL('../../docs/agent-protocol.md', import.meta.url), 'utf8');
  const m = /<!-- worked-example:start -->\s*```sh\n([\s\S]*?)```\s*<!-- worked-example:end -->/.exec(doc);
  if (!m) throw new Error('docs/agent-protocol.md has no worked example between its markers');
  return m[1]!;
}

describe('docs/agent-protocol.md: the openssl, curl and jq example runs as written', () => {
  let tc: TestCore;
  beforeAll(async () => {
    tc = await startTestCore();
  });
  afterAll(async () => tc?.close());

  it('enrolls, is approved and connects, ending in AUTHENTICATION_SUCCEEDED', async () => {
    const script = await workedExample();
    const token = await tc.token('admin', ['SECURITY_ADMIN']);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
      env: { ...process.env, GW: tc.core.agentUrl, API: tc.url, TOKEN: token },
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\{"requestId":"\d+","status":"PENDING"\}$/);
    expect(lines.slice(1)).toEqual([
      '{"status":"PENDING"}',
      '{"status":"AUTHENTICATION_FAILED","reason":"CERTIFICATE_NOT_APPROVED"}',
      expect.stringMatching(/^\{"data":\{"approveClient":\{"status":"APPROVED","serialNumber":"[0-9a-f]+"\}\}\}$/),
      'certificate.pem: OK',
      '{"status":"AUTHENTICATION_SUCCEEDED","reason":null}',
    ]);
    const device = await tc.core.database.db.execute(
      (await import('drizzle-orm')).sql`select name, auth_status from devices where agent_id = 'ws-0099'`,
    );
    expect(JSON.stringify(device)).toContain('AUTHENTICATION_SUCCEEDED');
  });
});
