import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import {
  getCertificatesWithAgentBySerials,
  getRequestOfDeviceKey,
  getSecureData,
  listSecureDataNames,
  upsertSecureData,
} from '../db/client-certificate-queries.js';
import { insertAuditEvent } from '../db/audit-queries.js';
import { getDevicesByAgentIds, type DeviceRow } from '../db/device-queries.js';
import { getCoreSettings } from '../db/settings-queries.js';
import type { ConnectionSource, FailureReason } from '../db/schema.js';
import { encryptForCertificate, type CaSigner, type KeyProtector } from '../pki/index.js';
import { AppError, badInput, notFound } from './app-error.js';
import {
  decideConnectionResult,
  parseAgentVersion,
  type CertificateFacts,
  type ConnectionVerdict,
} from './auth-status-rules.js';
import { requireAdmin, requireViewer, type Caller } from './caller.js';
import type { ConnectionService } from './connection-service.js';
import type { ServiceDeps } from './deps.js';
import { checkAgentId } from './input-checks.js';
import { transact } from './transaction.js';

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_SECRET_BYTES = 16 * 1024;

/** HTTP status for each outcome: no usable credential is 401, a refused one 403, an old agent 426. */
function httpStatusOf(verdict: ConnectionVerdict): number {
  if (verdict.result === 'AUTHENTICATION_SUCCEEDED') return 200;
  if (verdict.result === 'CLIENT_AGENTS_MUST_UPGRADE') return 426;
  return verdict.failureReason === 'NO_CLIENT_CERTIFICATE' ? 401 : 403;
}

function pemOf(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

// The name is bound into the seal (through its hash: purposes are lower-case words), so a stored
// value cannot be moved to another name and be handed out under it.
const sealPurpose = (name: string) => `secure-data-${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;

function checkSecretName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw badInput('name must be 1 to 128 letters, digits, dots, underscores or dashes, starting with a letter or digit', 'name');
  }
  return name;
}

/**
 * createAgentAuthService authenticates agents' connections (the whole certificate check, then
 * recordConnectionResult) and hands secure core data to devices that may read it.
 */
export function createAgentAuthService(
  deps: ServiceDeps & { signer: CaSigner; protector: KeyProtector; connections: ConnectionService },
) {
  const { db } = deps;

  // The reads every connection makes, batched across the connections that arrive together: the
  // loads of one turn of the event loop become one query (nothing is cached between turns, so
  // each connection still sees the database as it is).
  const batchPerTurn = { cache: false, maxBatchSize: 500, batchScheduleFn: (run: () => void) => setImmediate(run) };
  const deviceOfAgent = new DataLoader<string, DeviceRow | null>(async (agentIds) => {
    const rows = new Map((await getDevicesByAgentIds(db, agentIds)).map((d) => [d.agentId!, d]));
    return agentIds.map((a) => rows.get(a) ?? null);
  }, batchPerTurn);
  const certificateBySerial = new DataLoader<string, Awaited<ReturnType<typeof getCertificatesWithAgentBySerials>>[number] | null>(
    async (serials) => {
      const rows = new Map((await getCertificatesWithAgentBySerials(db, serials)).map((r) => [r.cert.serialNumber, r]));
      return serials.map((s) => rows.get(s) ?? null);
    },
    batchPerTurn,
  );

  /** certificateFacts finds out what a presented certificate is: ours and approved, a pending key's, or foreign. */
  async function certificateFacts(agentId: string, der: Buffer | null): Promise<CertificateFacts | null> {
    if (!der) return null;
    let p;
    try {
      p = await deps.signer.inspectPresentedCertificate(der);
    } catch {
      // Not even a certificate: nothing about it can be trusted.
      return {
        serialNumber: '',
        issuedByThisCore: false,
        recordStatus: null,
        notBefore: new Date(0),
        notAfter: new Date(0),
        subjectAgentId: '',
      };
    }
    const base = {
      serialNumber: p.serialNumber.slice(0, 64),
      notBefore: p.notBefore,
      notAfter: p.notAfter,
      subjectAgentId: p.subjectCommonName ?? '',
    };
    if (p.chainsToCa && p.hasClientAuth) {
      const rec = await certificateBySerial.load(p.serialNumber);
      // Bound to the device the core issued it for, whatever its subject claims.
      const boundTo = rec ? (rec.agentId ?? '') : base.subjectAgentId;
      return { ...base, issuedByThisCore: true, recordStatus: rec?.cert.status ?? null, subjectAgentId: boundTo === base.subjectAgentId ? boundTo : '' };
    }
    if (p.selfSigned) {
      // A device waiting for approval presents a self-signed certificate of the key it asked for.
      const device = await deviceOfAgent.load(agentId);
      const rec = device ? await getRequestOfDeviceKey(db, device.id, p.publicKeyFingerprint) : undefined;
      const recordStatus = rec?.status === 'PENDING' || rec?.status === 'REJECTED' ? rec.status : null;
      return { ...base, issuedByThisCore: false, recordStatus };
    }
    return { ...base, issuedByThisCore: false, recordStatus: null };
  }

  async function knownAgent(agentIdRaw: string) {
    const agentId = checkAgentId(agentIdRaw);
    const device = await deviceOfAgent.load(agentId);
    if (!device) throw new AppError('NOT_FOUND', `agent ${JSON.stringify(agentId)} is not known to this core: enroll first`);
    return agentId;
  }

  return {
    /** authenticate checks a connection completely and records its result; the answer carries the HTTP status. */
    async authenticate(input: {
      source: ConnectionSource;
      agentId: string;
      agentVersion: string;
      presentedCertificate: Buffer | null;
    }): Promise<{ httpStatus: number; status: string; reason: FailureReason | null }> {
      const agentVersion = input.agentVersion.trim();
      parseAgentVersion(agentVersion);
      const agentId = await knownAgent(input.agentId);
      const certificate = await certificateFacts(agentId, input.presentedCertificate);
      const { verdict } = await deps.connections.recordConnectionResult({
        source: input.source,
        agentId,
        agentVersion,
        certificate,
      });
      return { httpStatus: httpStatusOf(verdict), status: verdict.result, reason: verdict.failureReason };
    },

    /**
     * fetchSecureData hands a secret to a device: encrypted to its valid certificate's key; while the
     * security model is off, also in the clear to a device without one (the legacy behaviour).
     */
    async fetchSecureData(input: {
      agentId: string;
      agentVersion: string | null;
      name: string;
      presentedCertificate: Buffer | null;
    }): Promise<{ kind: 'jwe'; body: string } | { kind: 'legacy'; value: string }> {
      const name = checkSecretName(input.name);
      const agentVersion = input.agentVersion?.trim() || null;
      if (agentVersion !== null) parseAgentVersion(agentVersion);
      const agentId = await knownAgent(input.agentId);
      const certificate = await certificateFacts(agentId, input.presentedCertificate);
      const verdict = decideConnectionResult({ agentVersion, agentId, certificate }, deps.clock());
      const [secret, settings] = await Promise.all([getSecureData(db, name), getCoreSettings(db)]);
      if (verdict.result === 'AUTHENTICATION_SUCCEEDED' && input.presentedCertificate) {
        if (!secret) throw notFound('secure data item', name);
        const value = deps.protector.open(secret.sealedValue, sealPurpose(name)).toString('utf8');
        return { kind: 'jwe', body: await encryptForCertificate(value, pemOf(input.presentedCertificate)) };
      }
      if (settings.clientCertificateSecurityEnabled) {
        // The attempt shows in the chart: a device that cannot read secure data is not ready.
        await deps.connections.recordConnectionResult({
          source: 'SECURE_CONNECTION',
          agentId,
          agentVersion,
          certificate,
        });
        throw new AppError(
          'FORBIDDEN',
          `secure data needs a valid client certificate while client certificate-based security is enabled (${verdict.failureReason ?? verdict.result})`,
          { reason: verdict.failureReason ?? verdict.result },
        );
      }
      if (!secret) throw notFound('secure data item', name);
      return { kind: 'legacy', value: deps.protector.open(secret.sealedValue, sealPurpose(name)).toString('utf8') };
    },

    /** setSecureData stores a secret sealed at rest; the value never appears in the API or the audit log. */
    async setSecureData(caller: Caller, nameRaw: string, value: string): Promise<{ name: string; updatedAt: Date }> {
      requireAdmin(caller);
      const name = checkSecretName(nameRaw);
      const bytes = Buffer.from(value, 'utf8');
      if (bytes.length === 0) throw badInput('value must not be empty', 'value');
      if (bytes.length > MAX_SECRET_BYTES) throw badInput(`value is larger than ${MAX_SECRET_BYTES} bytes`, 'value');
      const now = deps.clock();
      const saved = await transact(deps, async (tx) => {
        const row = await upsertSecureData(tx, {
          name,
          sealedValue: deps.protector.seal(bytes, sealPurpose(name)),
          updatedAt: now,
          updatedBy: caller.subject,
        });
        await insertAuditEvent(tx, { actor: caller.subject, action: 'secureData.set', targetId: name, at: now });
        return row;
      });
      return { name: saved.name, updatedAt: saved.updatedAt };
    },

    /** listSecureDataItems lists the secrets' names, never their values. */
    async listSecureDataItems(caller: Caller): Promise<{ name: string; updatedAt: Date }[]> {
      requireViewer(caller);
      return listSecureDataNames(db);
    },
  };
}

export type AgentAuthService = ReturnType<typeof createAgentAuthService>;
