import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentClient } from '../../src/agent-client/agent-client.js';
import { encodeProxyV2 } from '../../src/server/agent-gateway/index.js';
import { ClientAccessRequestsDocument, DevicesDocument, RegisterDevicesDocument } from '../generated/graphql.js';
import { proxiedCall, type ProxiedCall } from '../support/proxy-client.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

// A load balancer at 127.0.0.2 (this machine's loopback answers to all of 127/8) in front of a core
// that trusts it. Its own address is in AUTO_APPROVE_NETWORKS on purpose: the mistake PROXY protocol
// guards against, where every agent behind the balancer would be approved because the balancer is.
describe('the agent gateway behind a load balancer that sends PROXY protocol v2 (AGENT_PROXY_PROTOCOL_FROM)', () => {
  let tc: TestCore;
  let admin: string;

  beforeAll(async () => {
    tc = await startTestCore({
      env: {
        AGENT_PROXY_PROTOCOL_FROM: '127.0.0.2/32',
        AUTO_APPROVE_NETWORKS: '198.51.100.0/24,127.0.0.2/32',
        ENROLL_RATE_PER_MINUTE: '1',
      },
    });
    admin = await tc.token('admin', ['SECURITY_ADMIN']);
  }, 60_000);
  afterAll(async () => {
    await tc?.close();
  });

  const call = (c: Partial<ProxiedCall>) =>
    proxiedCall({
      port: tc.core.agentPort,
      localAddress: '127.0.0.2',
      caCertificatePem: tc.core.authority.certificatePem,
      method: 'GET',
      path: '/agent/v1/ca',
      ...c,
    });
  const from = (address: string) =>
    encodeProxyV2({ command: 'PROXY', family: 'IPv4', source: { address, port: 50000 }, destination: { address: '127.0.0.1', port: tc.core.agentPort } });

  async function enroll(agentId: string, c: Partial<ProxiedCall>) {
    const agent = createAgentClient({ gatewayUrl: tc.core.agentUrl, caCertificatePem: tc.core.authority.certificatePem, agentId });
    try {
      const body = JSON.stringify({ agentId, deviceName: agentId.toUpperCase(), agentVersion: '2024.1', csrPem: await agent.csrPem() });
      return await call({ method: 'POST', path: '/agent/v1/enroll', body, ...c });
    } finally {
      agent.close();
    }
  }

  async function requestOf(agentId: string) {
    const res = await tc.gql(ClientAccessRequestsDocument, { filter: { search: agentId } }, admin);
    return res.data!.clientAccessRequests.edges.map((e) => e.node).find((n) => n.device?.agentId === agentId)!;
  }

  it("auto-approves by the header's address, not the balancer's: one from the auto-approve network is approved", async () => {
    expect(await enroll('proxied-1', { prefix: from('198.51.100.7') })).toMatchObject({ kind: 'answered', status: 202, body: { status: 'APPROVED' } });
    expect(await requestOf('proxied-1')).toMatchObject({ status: 'APPROVED', decidedBy: 'system:auto-approval', requestedFrom: '198.51.100.7' });
  });

  it('and one from elsewhere, through the same balancer (itself in the auto-approve list), waits for an admin', async () => {
    expect(await enroll('proxied-2', { prefix: from('203.0.113.5') })).toMatchObject({ kind: 'answered', status: 202, body: { status: 'PENDING' } });
    expect(await requestOf('proxied-2')).toMatchObject({ status: 'PENDING', requestedFrom: '203.0.113.5' });
  });

  it("rate-limits enrollments by the header's address (one a minute here): another client behind the balancer is not held back", async () => {
    const again = await enroll('proxied-3', { prefix: from('203.0.113.5') });
    expect(again).toMatchObject({ kind: 'answered', status: 429, body: { error: { code: 'ENROLLMENT_RATE_LIMITED' } } });
    expect(await enroll('proxied-4', { prefix: from('203.0.113.6') })).toMatchObject({ kind: 'answered', status: 202, body: { status: 'PENDING' } });
  });

  it("records a connection result with the header's address as its source", async () => {
    const imported = await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'OLD-PROXIED', agentId: 'old-proxied', agentVersion: '9.1' }] }, admin);
    expect(imported.errors).toBeUndefined();
    const connect = await call({ method: 'POST', path: '/agent/v1/connect', body: JSON.stringify({ agentId: 'old-proxied', agentVersion: '9.1' }), prefix: from('198.51.100.8') });
    expect(connect).toMatchObject({ kind: 'answered', status: 426, body: { status: 'CLIENT_AGENTS_MUST_UPGRADE' } });
    const devices = await tc.gql(DevicesDocument, { filter: { search: 'old-proxied' } }, admin);
    expect(devices.data!.devices.edges[0]!.node.lastConnection).toMatchObject({ result: 'CLIENT_AGENTS_MUST_UPGRADE', remoteAddress: '198.51.100.8' });
  });

  it('closes a connection from the balancer that does not begin with a header', async () => {
    expect(await call({})).toMatchObject({ kind: 'refused' });
    expect(tc.logs.join('\n')).toContain('without a valid PROXY protocol v2 header');
  });

  it('does not honour a header from an address it does not trust: the TLS handshake fails', async () => {
    expect(await call({ localAddress: '127.0.0.1', prefix: from('198.51.100.9') })).toMatchObject({ kind: 'refused' });
  });

  it('serves a client that connects directly, from an address it does not trust, as its own', async () => {
    expect(await enroll('direct-1', { localAddress: '127.0.0.1' })).toMatchObject({ kind: 'answered', status: 202, body: { status: 'PENDING' } });
    expect(await requestOf('direct-1')).toMatchObject({ requestedFrom: '127.0.0.1' });
  });
});
