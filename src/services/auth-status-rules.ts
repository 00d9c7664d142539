import { AGENT_VERSION_FORM, agentMustUpgrade, agentVersionMajor, type AgentVersion } from '../domain/agent-version.js';
import type { AuthStatus, ClientCertificateStatus, FailureReason, UnverifiedReason } from '../domain/statuses.js';
import { badInput } from './app-error.js';

/** parseAgentVersion checks an agent version ("2020.1.3", "9.60") and returns its major number (rule: domain/agent-version.ts). */
export function parseAgentVersion(version: string, argument = 'agentVersion'): number {
  const major = agentVersionMajor(version);
  if (major === undefined) {
    throw badInput(`${argument} must look ${AGENT_VERSION_FORM}; got ${JSON.stringify(version.slice(0, 70))}`, argument);
  }
  return major;
}

/**
 * checkAgentVersionText trims a version an agent reported and checks it; null (none sent) stays null.
 * A blank version is malformed here: callers for which a version is optional map blank to null first.
 */
export function checkAgentVersionText(version: string, argument?: string): string;
export function checkAgentVersionText(version: string | null, argument?: string): string | null;
export function checkAgentVersionText(version: string | null, argument = 'agentVersion'): string | null {
  return version === null ? null : checkAgentVersion(version, argument).text;
}

/** checkAgentVersion trims and parses an agent version, so that nothing after it has to parse it again. */
export function checkAgentVersion(value: string, argument = 'agentVersion'): AgentVersion {
  const text = value.trim();
  return { text, major: parseAgentVersion(text, argument) };
}

/** CertificateFacts is what the gateway found out about the certificate a device presented. */
export interface CertificateFacts {
  serialNumber: string;
  /** The certificate chains to this core's CA (signature checked). */
  issuedByThisCore: boolean;
  /**
   * The state of this core's record for the certificate or for the request of its key:
   * null when the core has no record of it.
   */
  recordStatus: ClientCertificateStatus | null;
  notBefore: Date;
  notAfter: Date;
  /** The agent id the certificate's subject names (its CN). */
  subjectAgentId: string;
}

export interface ConnectionFacts {
  agentVersion: string | null;
  /** The agent id the device claims (and that the device row holds). */
  agentId: string;
  certificate: CertificateFacts | null;
}

export interface ConnectionVerdict {
  result: Exclude<AuthStatus, 'NO_AUTHENTICATION_INFO'>;
  failureReason: FailureReason | null;
}

const fail = (failureReason: FailureReason): ConnectionVerdict => ({ result: 'AUTHENTICATION_FAILED', failureReason });

/** CheckedConnectionFacts are ConnectionFacts whose agent version was checked on the way in. */
export interface CheckedConnectionFacts extends Omit<ConnectionFacts, 'agentVersion'> {
  agentVersion: AgentVersion | null;
}

/** decideConnectionResult applies the rules of DESIGN.md to one connection attempt. */
export function decideConnectionResult(facts: ConnectionFacts, now: Date): ConnectionVerdict {
  const agentVersion = facts.agentVersion === null ? null : { text: facts.agentVersion, major: parseAgentVersion(facts.agentVersion) };
  return decideCheckedConnection({ ...facts, agentVersion }, now);
}

/** decideCheckedConnection is decideConnectionResult for an attempt whose agent version was parsed already. */
export function decideCheckedConnection(facts: CheckedConnectionFacts, now: Date): ConnectionVerdict {
  if (facts.agentVersion !== null && agentMustUpgrade(facts.agentVersion.major)) {
    return { result: 'CLIENT_AGENTS_MUST_UPGRADE', failureReason: null };
  }
  const cert = facts.certificate;
  if (!cert) return fail('NO_CLIENT_CERTIFICATE');
  if (!cert.issuedByThisCore) {
    // A device still waiting for approval presents a self-signed certificate of the key it asked for.
    if (cert.recordStatus === 'PENDING') return fail('CERTIFICATE_NOT_APPROVED');
    if (cert.recordStatus === 'REJECTED') return fail('CERTIFICATE_REJECTED');
    return fail('UNTRUSTED_ISSUER');
  }
  // Revocation first: a revoked certificate is refused whatever else holds.
  if (cert.recordStatus === 'REVOKED') return fail('CERTIFICATE_REVOKED');
  if (cert.recordStatus === 'REJECTED') return fail('CERTIFICATE_REJECTED');
  if (cert.recordStatus !== 'APPROVED') return fail('CERTIFICATE_NOT_APPROVED');
  if (now.getTime() < cert.notBefore.getTime()) return fail('CERTIFICATE_NOT_YET_VALID');
  if (now.getTime() > cert.notAfter.getTime()) return fail('CERTIFICATE_EXPIRED');
  if (cert.subjectAgentId !== facts.agentId) return fail('DEVICE_MISMATCH');
  return { result: 'AUTHENTICATION_SUCCEEDED', failureReason: null };
}

/** isFullyManageable: once the security model is on, only an authenticated device is fully manageable. */
export function isFullyManageable(status: AuthStatus, securityEnabled: boolean): boolean {
  return !securityEnabled || status === 'AUTHENTICATION_SUCCEEDED';
}

/** KeysOnFile is what the core holds about a device's keys, and about the one a client presented. */
export interface KeysOnFile {
  /** The device has any request or certificate. */
  hasKeyOnFile: boolean;
  /** The device has a certificate this core issued (whatever became of it since). */
  hasIssuedCertificate: boolean;
  /** The device's request or certificate of the presented key, if any. */
  presentedKey: { status: ClientCertificateStatus; serialNumber: string | null } | null;
}

/** Proof says whether a connection result may move its device, and if not, why. */
export type Proof = { applies: true; by: 'KEY_ON_FILE' | 'NOTHING_ON_FILE' } | { applies: false; reason: UnverifiedReason };

/**
 * proofOf applies "proof before status" (DESIGN.md): a result moves a device only when the TLS
 * client proved possession of a key the core has on file for it (TLS itself proves the client
 * holds the presented certificate's key). A device with no key on file (known only from the
 * inventory import) has nothing stronger to ask for, so any result moves it. The key of a request
 * that was never approved proves the device only while it has no issued certificate: anyone can
 * enroll a key for an agent id, and that must not outrank a certificate an admin approved.
 */
export function proofOf(keys: KeysOnFile, presentedCertificate: boolean): Proof {
  if (!keys.hasKeyOnFile) return { applies: true, by: 'NOTHING_ON_FILE' };
  if (!presentedCertificate) return { applies: false, reason: 'NO_CLIENT_CERTIFICATE' };
  if (keys.presentedKey === null) return { applies: false, reason: 'UNKNOWN_KEY' };
  if (keys.presentedKey.serialNumber === null && keys.hasIssuedCertificate) return { applies: false, reason: 'UNAPPROVED_KEY' };
  return { applies: true, by: 'KEY_ON_FILE' };
}
