import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { ApproveClientDocument, DevicesDocument, RegisterDevicesDocument, type DeviceFilter } from '../generated/graphql.js';
import { agentsOf, type AgentClientOptions, type TestAgent } from '../support/agent.js';
import type { TestCore } from '../support/test-core.js';

// A small real fleet for the console's device pages: devices imported through the API, and real agents
// over mutual TLS (approved and connected, or pending and connecting anyway), as the product makes them.

/** FleetAgent is a device made by a real agent. */
export interface FleetAgent extends Enrolled {
  name: string;
}

/** Enrolled is an agent whose enrollment the core accepted, and the id of its request. */
export interface Enrolled {
  agent: TestAgent;
  requestId: string;
}

/** enrollAgent makes an agent (options as agents.make's) and sends its enrollment: accepted, 202. */
export async function enrollAgent(
  agents: ReturnType<typeof agentsOf>,
  agentId: string,
  opts: Partial<AgentClientOptions> = {},
): Promise<Enrolled> {
  const agent = agents.make(agentId, opts);
  const res = await agent.enroll();
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return { agent, requestId: (res.body as { requestId: string }).requestId };
}

/** installCertificate has an approved agent fetch its certificate and present it from now on (it has not connected yet). */
export async function installCertificate({ agent, requestId }: Enrolled): Promise<void> {
  const polled = (await agent.poll(requestId)).body as { status: string; certificatePem: string };
  expect(polled.status).toBe('APPROVED');
  agent.useCertificate(polled.certificatePem);
}

/** approveAgent approves an agent's request through the API as admin, then installs its certificate. */
export async function approveAgent(tc: TestCore, admin: string, enrolled: Enrolled): Promise<void> {
  const approved = await tc.gql(ApproveClientDocument, { id: enrolled.requestId }, admin);
  expect(approved.errors).toBeUndefined();
  await installCertificate(enrolled);
}

/** Fleet is what makeFleet made, by how it ended up. */
export interface Fleet {
  /** Approved, certificate installed, connected: Authentication succeeded. */
  succeeded: FleetAgent[];
  /** Enrolled, never approved, connected with its self-signed certificate: Authentication failed. */
  pending: FleetAgent[];
  /** Imported only (names differ from agent ids, so a search by either can be told apart): No authentication info. */
  imported: { name: string; agentId: string }[];
  /** Imported 9.x agents that connected without a certificate: Client agents must upgrade. */
  old: { name: string; agentId: string }[];
}

/**
 * makeFleet registers and connects devices on tc; prefix keeps names unique in the file. Agents are
 * closed with agents.closeAll.
 */
export async function makeFleet(
  tc: TestCore,
  admin: string,
  agents: ReturnType<typeof agentsOf>,
  spec: { prefix: string; imported?: number; succeeded?: number; pending?: number; old?: number },
): Promise<Fleet> {
  const p = spec.prefix;
  const pad = (i: number) => String(i).padStart(2, '0');
  const imported = Array.from({ length: spec.imported ?? 0 }, (_, i) => ({ name: `${p}-desk-${pad(i)}`, agentId: `${p}-guid-${pad(i)}` }));
  const old = Array.from({ length: spec.old ?? 0 }, (_, i) => ({ name: `${p}-legacy-${pad(i)}`, agentId: `${p}-legacy-${pad(i)}` }));
  const items = [...imported, ...old.map((o) => ({ ...o, agentVersion: '9.60' }))];
  if (items.length > 0) {
    const reg = await tc.gql(RegisterDevicesDocument, { devices: items }, admin);
    expect(reg.errors).toBeUndefined();
  }
  for (const o of old) {
    const res = await agents.make(o.agentId, { agentVersion: '9.60.2' }).connect({ cert: 'none', agentVersion: '9.60.2' });
    expect(res.status).toBe(426);
  }

  const enroll = async (kind: string, i: number): Promise<FleetAgent> => {
    const name = `${p}-${kind}-${pad(i)}`;
    return { name, ...(await enrollAgent(agents, `${p}-${kind}-agent-${pad(i)}`, { deviceName: name, agentVersion: '2024.1' })) };
  };

  const succeeded: FleetAgent[] = [];
  for (let i = 0; i < (spec.succeeded ?? 0); i++) {
    const a = await enroll('ok', i);
    await approveAgent(tc, admin, a);
    expect((await a.agent.connect()).status).toBe(200);
    succeeded.push(a);
  }
  const pending: FleetAgent[] = [];
  for (let i = 0; i < (spec.pending ?? 0); i++) {
    const a = await enroll('pend', i);
    // A pending agent presents a self-signed certificate of its requested key: refused, and recorded.
    expect((await a.agent.connect()).status).toBe(403);
    pending.push(a);
  }
  return { succeeded, pending, imported, old };
}

/** apiDevices lists the devices the API returns for a filter (all of them, in its order) and its totalCount. */
export async function apiDevices(tc: TestCore, token: string, filter: DeviceFilter | null) {
  const res = await tc.gql(DevicesDocument, { filter, first: 500 }, token);
  expect(res.errors).toBeUndefined();
  const devices = res.data!.devices;
  expect(devices.pageInfo.hasNextPage).toBe(false);
  return { totalCount: devices.totalCount, devices: devices.edges.map((e) => e.node) };
}

/** tableNames reads the device names a console table shows, in order. */
export function tableNames(page: Page, table = 'Devices'): Promise<string[]> {
  return page.getByRole('table', { name: table }).locator('tbody tr td:first-child a').allTextContents();
}

/** shownTotal reads the list's count line, e.g. 3 from '3 devices'. */
export async function shownTotal(page: Page): Promise<number | null> {
  const text = (await page.getByTestId('total-count').textContent()) ?? '';
  const m = /^([\d,.\s]+) devices?$/.exec(text.trim());
  return m ? Number(m[1]!.replace(/\D/g, '')) : null;
}
