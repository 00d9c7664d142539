import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import {
  getConnectionChecks,
  getSecureData,
  listSecureDataNames,
  upsertSecureData,
  type ConnectionCheck,
  type KeyProof,
} from '../db/client-certificate-queries.js';
import { insertAuditEvent } from '../db/audit-queries.js';
import { getCoreSettings } from '../db/settings-queries.js';
import type { AgentVersion } from '../domain/agent-version.js';
import type { ConnectionSource, FailureReason } from '../domain/statuses.js';
import { encryptForCertificate, type CaSigner, type KeyProtector, type PresentedCertificate } from '../pki/index.js';
import { AppError, badInput, notFound } from './app-error.js';
import {
  checkAgentVersion,
  decideCheckedConnection,
  proofOf,
  type CertificateFacts,
  type ConnectionVerdict,
  type Proof,
} from './auth-status-rules.js';
import { requireAdmin, requireViewer, type Caller } from './caller.js';
import { checkConnectionSource, type ConnectionService } from './connection-service.js';
import type { ServiceDeps } from './deps.js';
import { checkAgentId, type AgentId } from './input-checks.js';
import { transact } from './transaction.js';
import type { UnverifiedAttemptLog } from './unverified-attempts.js';

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_SECRET_BYTES = 16 * 1024;

/** HTTP status for each outcome: no usable credential is 401, a refused one 403, an old agent 426. */
function httpStatusOf(verdict: ConnectionVerdict): number {
  if (verdict.result === 'AUTHENTICATION_SUCCEEDED') return 200;
  if (verdict.result === 'CLIENT_AGENTS_MUST_UPGRADE') return 426;
  return verdict.failureReason === 'NO_CLIENT_CERTIFICATE' ? 401 : 403;
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

/** AgentClaim is what a client says and shows on connect, scan-results and secure-data. */
export interface AgentClaim {
  agentId: string;
  /** null when the client sent none (secure data may omit it). */
  agentVersion: string | null;
  /**
   * The DER of the certificate presented over TLS (whose key TLS proved the client holds), if any.
   * The gateway hands over the same Buffer for every request of one connection: it is inspected once.
   */
  presentedCertificate: Buffer | null;
  /**
   * The TLS handshake verified presentedCertificate's chain to the core CA with no error (the
   * gateway's socket.authorized): the CA's signature is then not verified again. Absent: verified here.
   */
  chainVerifiedByTls?: boolean;
  /** The client's address as the gateway saw it. */
  remoteAddress: string;
}

/** CheckedClaim is an AgentClaim checked once, on the way in; everything after takes it as it is. */
interface CheckedClaim extends Omit<AgentClaim, 'agentId' | 'agentVersion'> {
  agentId: AgentId;
  agentVersion: AgentVersion | null;
}

// The version first, then the id: the order in which a claim's mistakes have always been answered.
function checkClaim(claim: AgentClaim): CheckedClaim {
  const agentVersion = claim.agentVersion === null ? null : checkAgentVersion(claim.agentVersion);
  const agentId = checkAgentId(claim.agentId);
  return {
    agentId,
    agentVersion,
    presentedCertificate: claim.presentedCertificate,
    chainVerifiedByTls: claim.chainVerifiedByTls === true,
    remoteAddress: claim.remoteAddress,
  };
}

/** What the core makes of a claim: the device it names, whether it proved a key on file, and the verdict. */
interface Assessment {
  agentId: AgentId;
  agentVersion: AgentVersion | null;
  /** null when the agent id is not known: then nothing is recorded against any device. */
  device: KeyProof | null;
  proof: Proof | null;
  /**
   * The facts the verdict was reached on. Without proof, only what anyone could learn from the
   * certificate itself (never the device's records), so that the answer to a stranger is the same
   * whether or not the agent id exists.
   */
  certificate: CertificateFacts | null;
  verdict: ConnectionVerdict;
  /** When the verdict was decided: recorded as the attempt's time. */
  at: Date;
}

/**
 * createAgentAuthService authenticates agents' connections (the whole certificate check, proof
 * of a key on file, then recordConnectionResult) and hands secure core data to devices that may
 * read it.
 */
export function createAgentAuthService(
  deps: ServiceDeps & {
    signer: CaSigner;
    protector: KeyProtector;
    connections: ConnectionService;
    unverified: UnverifiedAttemptLog;
    /** 'imported': while the security model is off, imported devices without a valid certificate get secure data in the clear. */
    legacySecureDataRelease: 'off' | 'imported';
  },
) {
  const { db } = deps;

  // The reads every connection makes, batched across the connections that arrive together: the
  // loads of one turn of the event loop become one query (nothing is cached between turns, so
  // each connection still sees the database as it is).
  const batchPerTurn = { cache: false, maxBatchSize: 500, batchScheduleFn: (run: () => void) => setImmediate(run) };
  const connectionChecks = new DataLoader<{ agentId: string; fingerprint: string | null; serialNumber: string | null }, ConnectionCheck>(
    async (items) => getConnectionChecks(db, items),
    batchPerTurn,
  );

  // What inspect made of each presented DER, by the Buffer itself: the gateway hands over one Buffer per
  // connection, so a kept-alive connection's certificate is parsed once, not on every request. Only the
  // certificate's own contents are kept here; everything the database says is read on every request.
  const inspected = new WeakMap<Buffer, { chainVerifiedByTls: boolean; result: PresentedCertificate | 'unreadable' }>();

  function inspect(der: Buffer | null, chainVerifiedByTls: boolean): PresentedCertificate | 'unreadable' | null {
    if (!der) return null;
    const known = inspected.get(der);
    if (known !== undefined && known.chainVerifiedByTls === chainVerifiedByTls) return known.result;
    let result: PresentedCertificate | 'unreadable';
    try {
      result = deps.signer.inspectPresentedCertificate(der, { chainVerifiedByTls });
    } catch {
      result = 'unreadable';
    }
    inspected.set(der, { chainVerifiedByTls, result });
    return result;
  }

  async function assess(claim: CheckedClaim): Promise<Assessment> {
    const { agentId, agentVersion } = claim;
    const p = inspect(claim.presentedCertificate, claim.chainVerifiedByTls === true);
    const presented = p === 'unreadable' ? null : p;
    const chained = presented !== null && presented.chainsToCa && presented.hasClientAuth;
    // One statement for both: the device and what it has on file for this key, and (for one of
    // our certificates) the record of that certificate, whoever it was issued to.
    const { proof: device, certificate: record } = await connectionChecks.load({
      agentId,
      fingerprint: presented?.publicKeyFingerprint ?? null,
      serialNumber: chained ? presented.serialNumber : null,
    });
    let certificate: CertificateFacts | null = null;
    if (p === 'unreadable') {
      // Not even a certificate: nothing about it can be trusted.
      certificate = { serialNumber: '', issuedByThisCore: false, recordStatus: null, notBefore: new Date(0), notAfter: new Date(0), subjectAgentId: '' };
    } else if (presented !== null) {
      const subjectAgentId = presented.subjectCommonName ?? '';
      // Bound to the device the core issued it for, whatever its subject claims.
      const boundTo = record ? (record.agentId ?? '') : subjectAgentId;
      certificate = {
        serialNumber: presented.serialNumber.slice(0, 64),
        notBefore: presented.notBefore,
        notAfter: presented.notAfter,
        issuedByThisCore: chained,
        recordStatus: chained ? (record?.status ?? null) : null,
        subjectAgentId: chained ? (boundTo === subjectAgentId ? boundTo : '') : subjectAgentId,
      };
    }
    // An unreadable certificate was still presented: its key is simply not one on file.
    const proof = device ? proofOf({ ...device, presentedKey: device.key }, claim.presentedCertificate !== null) : null;
    if (proof?.applies && certificate && !certificate.issuedByThisCore && device?.key) {
      // A device waiting for approval presents a self-signed certificate of the key it asked for.
      const status = device.key.status;
      certificate = { ...certificate, recordStatus: status === 'PENDING' || status === 'REJECTED' ? status : null };
    }
    const at = deps.clock();
    const verdict = decideCheckedConnection({ agentVersion, agentId, certificate }, at);
    return { agentId, agentVersion, device, proof, certificate, verdict, at };
  }

  /** keepUnproven records a claim that may not move its device: against the device, or as an unknown agent id. */
  function keepUnproven(a: Assessment, source: ConnectionSource, remoteAddress: string): void {
    const at = deps.clock();
    if (a.device === null) {
      deps.unverified.noteUnknownAgent({ agentId: a.agentId, remoteAddress, at });
      return;
    }
    if (a.proof === null || a.proof.applies) return;
    deps.unverified.note({
      agentId: a.agentId,
      deviceId: a.device.deviceId,
      at,
      source,
      result: a.verdict.result,
      failureReason: a.verdict.failureReason,
      agentVersion: a.agentVersion?.text ?? null,
      certificateSerialNumber: a.certificate?.serialNumber || null,
      certificateNotAfter: a.certificate?.notAfter ?? null,
      unverifiedReason: a.proof.reason,
      remoteAddress: remoteAddress.slice(0, 64) || null,
    });
  }

  // The verdict the assessment reached is the one recorded: the connection is not judged twice.
  async function record(a: Assessment, source: ConnectionSource, remoteAddress: string) {
    return deps.connections.recordDecided({
      source,
      agentId: a.agentId,
      agentVersion: a.agentVersion,
      certificate: a.certificate,
      remoteAddress,
      at: a.at,
      verdict: a.verdict,
    });
  }

  const refusedSecureData = (a: Assessment, why: string) =>
    new AppError('FORBIDDEN', `secure data needs a valid client certificate ${why}: ${a.verdict.failureReason ?? a.verdict.result}`, {
      reason: a.verdict.failureReason ?? a.verdict.result,
    });

  return {
    /**
     * authenticate checks a connection completely and records its result when the client proved
     * a key the core has on file for the device; otherwise the device keeps its state and the
     * attempt is kept as unverified. The answer (with its HTTP status) is the same for an unknown
     * agent id as for a known one without proof.
     */
    async authenticate(input: AgentClaim & { source: ConnectionSource }): Promise<{ httpStatus: number; status: string; reason: FailureReason | null }> {
      const source = checkConnectionSource(input.source);
      const a = await assess(checkClaim(input));
      let verdict = a.verdict;
      if (a.proof?.applies) verdict = (await record(a, source, input.remoteAddress)).verdict;
      else keepUnproven(a, source, input.remoteAddress);
      return { httpStatus: httpStatusOf(verdict), status: verdict.result, reason: verdict.failureReason };
    },

    /**
     * fetchSecureData hands a secret to a device: encrypted to its valid certificate's key; while
     * the security model is off and the legacy release is on, also in the clear to an imported
     * device that has no valid certificate (each release audited).
     */
    async fetchSecureData(input: AgentClaim & { name: string }): Promise<{ kind: 'jwe'; body: string } | { kind: 'legacy'; value: string }> {
      const name = checkSecretName(input.name);
      // Secure data may come without a version (an empty one counts as none).
      const claim = checkClaim({ ...input, agentVersion: input.agentVersion?.trim() || null });
      const a = await assess(claim);
      const proven = a.proof?.applies === true;
      const [secret, settings] = await Promise.all([getSecureData(db, name), getCoreSettings(db)]);
      if (proven && a.verdict.result === 'AUTHENTICATION_SUCCEEDED' && claim.presentedCertificate) {
        if (!secret) throw notFound('secure data item', name);
        const value = deps.protector.open(secret.sealedValue, sealPurpose(name)).toString('utf8');
        // Encrypted to the key of the very DER that TLS handed over and the assessment inspected.
        return { kind: 'jwe', body: await encryptForCertificate(value, claim.presentedCertificate) };
      }
      if (settings.clientCertificateSecurityEnabled) {
        // The attempt shows in the chart: a device that cannot read secure data is not ready.
        if (proven) await record(a, 'SECURE_CONNECTION', input.remoteAddress);
        else keepUnproven(a, 'SECURE_CONNECTION', input.remoteAddress);
        throw refusedSecureData(a, 'while client certificate-based security is enabled');
      }
      const legacy = deps.legacySecureDataRelease === 'imported' && proven && a.device?.imported === true;
      if (!legacy) {
        keepUnproven(a, 'SECURE_CONNECTION', input.remoteAddress);
        throw refusedSecureData(a, 'from this device');
      }
      if (!secret) throw notFound('secure data item', name);
      const now = deps.clock();
      // Audited before the value leaves: no release goes unrecorded.
      await insertAuditEvent(db, {
        actor: `agent:${a.agentId}`,
        action: 'secureData.releasedInClear',
        targetId: name,
        details: { agentId: a.agentId, from: input.remoteAddress, reason: a.verdict.failureReason ?? a.verdict.result },
        at: now,
      });
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
      // The name only: the value is never logged (and the logger would censor a field named value).
      deps.log.info('secure data set', { action: 'secureData.set', actor: caller.subject, name: saved.name });
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
