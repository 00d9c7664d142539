import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { ApproveClientDocument, DevicesDocument, RegisterDevicesDocument, type DeviceFilter } from '../generated/graphql.js';
import { agentsOf, type TestAgent } from '../support/agent.js';
import type { TestCore } from '../support/test-core.js';

// A small real fleet for the console's device pages: devices imported through the API, and real agents
// over mutual TLS (approved and connected, or pending and connecting anyway), as the product makes them.

/** FleetAgent is a device made by a real agent. */
export interface FleetAgent {
  agent: TestAgent;
  name: string;
  requestId: string;
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
    const agent = agents.make(`${p}-${kind}-agent-${pad(i)}`, { deviceName: name, agentVersion: '2024.1' });
    const res = await agent.enroll();
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return { agent, name, requestId: (res.body as { requestId: string }).requestId };
  };

  const succeeded: FleetAgent[] = [];
  for (let i = 0; i < (spec.succeeded ?? 0); i++) {
    const a = await enroll('ok', i);
    const approved = await tc.gql(ApproveClientDocument, { id: a.requestId }, admin);
    expect(approved.errors).toBeUndefined();
    const polled = (await a.agent.poll(a.requestId)).body as { status: string; certificatePem: string };
    expect(polled.status).toBe('APPROVED');
    a.agent.useCertificate(polled.certificatePem);
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
