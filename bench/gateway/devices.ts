// The gateway benchmark's setup, not timed: keys and CSRs in the load child, enrollment and approval
// through the core's services here, the certificates back to the child, one connect() per device.
import type { ClientProcess } from '../bench-common.js';
import type { CoreHandle } from '../../src/main.js';
import { AGENT_VERSION, type FromClient, type ToClient } from './protocol.js';

/**
 * setUpDevices gives the load child n enrolled and approved devices and checks each connects; it
 * returns the setup's timings. Agent ids are `<prefix><number>`: a load child of its own needs a
 * prefix of its own.
 */
export async function setUpDevices(
  c: CoreHandle,
  cp: ClientProcess<ToClient, FromClient>,
  nDevices: number,
  prefix = 'bench-gw-',
): Promise<{ enrollMs: number; approveMs: number; statuses: Record<string, number> }> {
  const agentIds = Array.from({ length: nDevices }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
  cp.send({ op: 'keys', agentIds });
  const { csrs } = await cp.waitFor<Extract<FromClient, { op: 'csrs' }>>((m) => m.op === 'csrs', 120_000, 'keys and CSRs');
  const tEnroll = performance.now();
  const requestIds: string[] = [];
  for (const { agentId, csrPem } of csrs) {
    const r = await c.services.clientAccess.enroll({
      agentId,
      deviceName: agentId.toUpperCase(),
      agentVersion: AGENT_VERSION,
      csrPem,
      remoteAddress: '127.0.0.1',
      presentedCertificate: null,
    });
    if (r.status !== 'PENDING' && r.status !== 'APPROVED') throw new Error(`enrollment of ${agentId} came back ${r.status}`);
    requestIds.push(r.requestId);
  }
  const enrollMs = performance.now() - tEnroll;
  const tApprove = performance.now();
  const admin = { subject: 'bench', roles: ['SECURITY_ADMIN' as const] };
  for (let i = 0; i < requestIds.length; i += 500) {
    const chunk = requestIds.slice(i, i + 500);
    const states = await c.services.clientAccess.loadRequests(chunk.map(Number));
    const pending = chunk.filter((id) => states.get(Number(id))?.status === 'PENDING');
    if (pending.length === 0) continue;
    const res = await c.services.clientAccess.approveMany(admin, pending);
    if (res.failed.length > 0) throw new Error(`approveMany refused ${res.failed.length}: ${JSON.stringify(res.failed.slice(0, 3))}`);
  }
  const approveMs = performance.now() - tApprove;
  const certs: { agentId: string; certificatePem: string }[] = [];
  const issued = await c.services.clientAccess.loadRequests(requestIds.map(Number));
  for (let i = 0; i < requestIds.length; i++) {
    const e = issued.get(Number(requestIds[i]))!;
    if (e.status !== 'APPROVED' || !e.certificatePem) throw new Error(`request ${requestIds[i]} is ${e.status}, not APPROVED with a certificate`);
    certs.push({ agentId: csrs[i]!.agentId, certificatePem: e.certificatePem });
  }
  cp.send({ op: 'certs', caCertificatePem: c.authority.certificatePem, certs });
  await cp.waitFor((m) => m.op === 'certsLoaded', 60_000, 'the client to load certificates');
  cp.send({ op: 'verify', gatewayUrl: c.agentUrl });
  const verified = await cp.waitFor<Extract<FromClient, { op: 'verified' }>>((m) => m.op === 'verified', 120_000, 'one connect per device');
  const okKey = '200 AUTHENTICATION_SUCCEEDED';
  if (verified.statuses[okKey] !== nDevices) throw new Error(`the real agent client's connect() answered ${JSON.stringify(verified.statuses)}`);
  return { enrollMs, approveMs, statuses: verified.statuses };
}
