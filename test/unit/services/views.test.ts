import { describe, expect, it } from 'vitest';
import type { AuditEventRow } from '../../../src/db/audit-queries.js';
import type { ClientCertificateRow, ConnectionResultRow, DeviceRow } from '../../../src/db/device-queries.js';
import type { SavedQueryRow } from '../../../src/db/saved-query-queries.js';
import {
  auditEventView,
  clientCertificateView,
  connectionAttemptView,
  deviceView,
  inventoryOf,
  savedQueryView,
} from '../../../src/services/views.js';

const AT = new Date('2030-07-01T12:00:00.000Z');
const LATER = new Date('2031-07-01T12:00:00.000Z');

// Request material that must never leave the core through a view; each is unique so a leak is easy to spot.
const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nCSR-SECRET-BODY\n-----END CERTIFICATE REQUEST-----';
const SPKI = 'SPKI-SECRET-BODY';

const certificateRow = (over: Partial<ClientCertificateRow> = {}): ClientCertificateRow => ({
  id: 11,
  deviceId: 7,
  status: 'APPROVED',
  subject: 'CN=agent-7',
  keyAlgorithm: 'EC P-256',
  publicKeyFingerprint: 'ab'.repeat(32),
  publicKeySpki: SPKI,
  csrPem: CSR,
  requestedAt: AT,
  decidedAt: AT,
  decidedBy: 'alice',
  decisionNote: 'rejected: unknown host',
  serialNumber: '0a0b',
  notBefore: AT,
  notAfter: LATER,
  certificatePem: '-----BEGIN CERTIFICATE-----\nPUBLIC\n-----END CERTIFICATE-----',
  revokedAt: null,
  revocationReason: null,
  requestedFrom: '192.0.2.1',
  requestedDeviceName: 'WS-7',
  requestedAgentVersion: '2024.3',
  ...over,
});

const deviceRow = (over: Partial<DeviceRow> = {}): DeviceRow => ({
  id: 7,
  name: 'WS-7',
  agentId: 'agent-7',
  agentVersion: '2024.3',
  isCoreServer: false,
  authStatus: 'AUTHENTICATION_SUCCEEDED',
  failureReason: null,
  lastConnectionId: 99,
  lastAttemptAt: AT,
  lastSource: 'SECURITY_SCANNER',
  lastResult: 'AUTHENTICATION_SUCCEEDED',
  lastFailureReason: null,
  lastAgentVersion: '2024.3',
  lastCertificateSerial: '0a0b',
  lastCertificateNotAfter: LATER,
  lastRemoteAddress: '192.0.2.1',
  imported: false,
  unverifiedAttempts: 0,
  lastUnverifiedAt: null,
  historyCount: 1,
  historyCountEpoch: 0,
  createdAt: AT,
  updatedAt: AT,
  ...over,
});

const attr = (inventory: { path: string[]; value: string }[], name: string) => inventory.find((a) => a.path.at(-1) === name)?.value;

describe('clientCertificateView', () => {
  it('hands out the public facts of a certificate and none of the request material kept inside the core', () => {
    const view = clientCertificateView(certificateRow());
    const text = JSON.stringify(view);
    for (const secret of ['CSR-SECRET-BODY', 'CERTIFICATE REQUEST', SPKI]) expect(text).not.toContain(secret);
    expect(view).not.toHaveProperty('csrPem');
    expect(view).not.toHaveProperty('publicKeySpki');
    expect(view).toMatchObject({ id: '11', dbId: 11, deviceId: 7, serialNumber: '0a0b', publicKeyFingerprint: 'ab'.repeat(32) });
  });

  it('never carries a field that holds a private key, whatever the row holds', () => {
    const row = { ...certificateRow(), privateKeyPem: '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----' } as ClientCertificateRow;
    expect(JSON.stringify(clientCertificateView(row))).not.toContain('PRIVATE KEY');
  });
});

describe('deviceView', () => {
  it('shows a failure reason only on a device that failed: a stale one stays hidden, in the inventory too', () => {
    const stale = deviceView(deviceRow({ authStatus: 'AUTHENTICATION_SUCCEEDED', failureReason: 'CERTIFICATE_REVOKED' }), false);
    expect(stale.failureReason).toBeNull();
    expect(attr(stale.inventory, 'Failure reason')).toBeUndefined();
    const failed = deviceView(deviceRow({ authStatus: 'AUTHENTICATION_FAILED', failureReason: 'CERTIFICATE_REVOKED' }), false);
    expect(failed.failureReason).toBe('CERTIFICATE_REVOKED');
    expect(attr(failed.inventory, 'Failure reason')).toBe('CERTIFICATE_REVOKED');
  });

  it.each([
    { status: 'AUTHENTICATION_SUCCEEDED' as const, off: true, on: true },
    { status: 'AUTHENTICATION_FAILED' as const, off: true, on: false },
    { status: 'NO_AUTHENTICATION_INFO' as const, off: true, on: false },
    { status: 'CLIENT_AGENTS_MUST_UPGRADE' as const, off: true, on: false },
  ])('$status is fully manageable: $off with security off, $on with it on (field and inventory agree)', ({ status, off, on }) => {
    for (const [enabled, want] of [[false, off], [true, on]] as const) {
      const v = deviceView(deviceRow({ authStatus: status }), enabled);
      expect(v.fullyManageable).toBe(want);
      expect(attr(v.inventory, 'Fully manageable')).toBe(want ? 'Yes' : 'No');
    }
  });

  it('builds lastConnection from the device row, as verified; none until every part of it is known', () => {
    const v = deviceView(deviceRow(), false);
    expect(v.lastConnection).toEqual({
      id: 99,
      at: AT,
      source: 'SECURITY_SCANNER',
      result: 'AUTHENTICATION_SUCCEEDED',
      failureReason: null,
      agentVersion: '2024.3',
      certificateSerialNumber: '0a0b',
      verified: true,
      unverifiedReason: null,
      remoteAddress: '192.0.2.1',
    });
    for (const missing of [{ lastConnectionId: null }, { lastAttemptAt: null }, { lastSource: null }, { lastResult: null }]) {
      expect(deviceView(deviceRow(missing), false).lastConnection).toBeNull();
    }
  });

  it('reads the id as a string and the unverified count as a number; lists unverified attempts in the inventory only when there are some', () => {
    const none = deviceView(deviceRow(), false);
    expect(none).toMatchObject({ id: '7', dbId: 7, unverifiedAttempts: 0 });
    expect(attr(none.inventory, 'Unverified attempts')).toBeUndefined();
    // A driver may hand a bigint column over as a string.
    const some = deviceView(deviceRow({ unverifiedAttempts: '12' as unknown as number, lastUnverifiedAt: LATER }), false);
    expect(some.unverifiedAttempts).toBe(12);
    expect(some.lastUnverifiedAttemptAt).toBe(LATER);
    expect(attr(some.inventory, 'Unverified attempts')).toBe('12');
  });
});

describe('inventoryOf', () => {
  it('lists what is known, in the inventory tree, with words for statuses and sources', () => {
    const inv = inventoryOf(deviceRow({ isCoreServer: true }), true);
    expect(inv).toEqual([
      { path: ['System', 'Device name'], value: 'WS-7' },
      { path: ['Ivanti Management', 'Agent', 'Device ID'], value: 'agent-7' },
      { path: ['Ivanti Management', 'Agent', 'Version'], value: '2024.3' },
      { path: ['Ivanti Management', 'Core server'], value: 'Yes' },
      { path: ['Ivanti Management', 'Client certificate-based security', 'Authentication status'], value: 'Authentication succeeded' },
      { path: ['Ivanti Management', 'Client certificate-based security', 'Fully manageable'], value: 'Yes' },
      { path: ['Ivanti Management', 'Client certificate-based security', 'Last attempt'], value: AT.toISOString() },
      { path: ['Ivanti Management', 'Client certificate-based security', 'Source'], value: 'Security scanner (vulscan)' },
      { path: ['Ivanti Management', 'Client certificate-based security', 'Certificate serial number'], value: '0a0b' },
      { path: ['Ivanti Management', 'Client certificate-based security', 'Certificate expires'], value: LATER.toISOString() },
      { path: ['Ivanti Management', 'Client certificate-based security', 'Agent version'], value: '2024.3' },
    ]);
  });

  it('leaves out what is unknown instead of showing empty values', () => {
    const inv = inventoryOf(
      deviceRow({
        agentId: null,
        agentVersion: null,
        authStatus: 'NO_AUTHENTICATION_INFO',
        lastConnectionId: null,
        lastAttemptAt: null,
        lastSource: null,
        lastResult: null,
        lastAgentVersion: null,
        lastCertificateSerial: null,
        lastCertificateNotAfter: null,
        lastRemoteAddress: null,
      }),
      true,
    );
    expect(inv.map((a) => a.path.at(-1))).toEqual(['Device name', 'Authentication status', 'Fully manageable']);
    expect(inv.every((a) => a.value !== '' && a.value !== 'null' && a.value !== 'undefined')).toBe(true);
  });
});

describe('connectionAttemptView, savedQueryView, auditEventView', () => {
  it('a history row keeps its verdict and leaves out the device id and certificate expiry', () => {
    const row: ConnectionResultRow = {
      id: 5,
      deviceId: 7,
      at: AT,
      source: 'SECURE_CONNECTION',
      result: 'AUTHENTICATION_FAILED',
      failureReason: 'UNTRUSTED_ISSUER',
      agentVersion: '2024.3',
      certificateSerialNumber: 'ff',
      certificateNotAfter: LATER,
      verified: false,
      unverifiedReason: 'UNKNOWN_KEY',
      remoteAddress: '192.0.2.5',
    };
    const v = connectionAttemptView(row);
    expect(v).toEqual({
      id: 5,
      at: AT,
      source: 'SECURE_CONNECTION',
      result: 'AUTHENTICATION_FAILED',
      failureReason: 'UNTRUSTED_ISSUER',
      agentVersion: '2024.3',
      certificateSerialNumber: 'ff',
      verified: false,
      unverifiedReason: 'UNKNOWN_KEY',
      remoteAddress: '192.0.2.5',
    });
  });

  it("a saved query does not say whose it is or how it is stored", () => {
    const row: SavedQueryRow = {
      id: 3,
      owner: 'alice-subject-7f3a',
      name: 'Authentication failed',
      folder: ['My queries', 'Chart-generated queries'],
      kind: 'CHART',
      authStatus: 'AUTHENTICATION_FAILED',
      createdAt: AT,
      updatedAt: LATER,
    };
    const v = savedQueryView(row);
    expect(JSON.stringify(v)).not.toContain('alice-subject-7f3a');
    expect(v).toEqual({
      id: '3',
      dbId: 3,
      name: 'Authentication failed',
      folder: ['My queries', 'Chart-generated queries'],
      authStatus: 'AUTHENTICATION_FAILED',
      createdAt: AT,
      updatedAt: LATER,
    });
  });

  it('an audit event is passed as recorded, its id as a string', () => {
    const row: AuditEventRow = { id: 9, at: AT, actor: 'alice', action: 'security.enabled', targetId: null, details: '{"devicesNotReady":3}' };
    expect(auditEventView(row)).toEqual({ id: '9', at: AT, actor: 'alice', action: 'security.enabled', targetId: null, details: '{"devicesNotReady":3}' });
  });
});
