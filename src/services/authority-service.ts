import { createPrivateKey, type KeyObject } from 'node:crypto';
import { insertAuditEvent } from '../db/audit-queries.js';
import { getAuthority, insertAuthority, type AuthorityRow } from '../db/settings-queries.js';
import { checkKeyMatchesCertificate, createCertificateAuthority, type KeyProtector } from '../pki/index.js';
import type { ServiceDeps } from './deps.js';
import { transact } from './transaction.js';

/** AuthorityInfo is the loaded CA: public facts plus the private key, which stays in memory only. */
export interface AuthorityInfo {
  subject: string;
  certificatePem: string;
  fingerprint: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  privateKey: KeyObject;
}

async function unseal(row: AuthorityRow, protector: KeyProtector): Promise<AuthorityInfo> {
  const der = protector.open(row.sealedPrivateKey);
  await checkKeyMatchesCertificate(row.certificatePem, der);
  return {
    subject: row.subject,
    certificatePem: row.certificatePem,
    fingerprint: row.fingerprint,
    serialNumber: row.serialNumber,
    notBefore: row.notBefore,
    notAfter: row.notAfter,
    privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
  };
}

/**
 * loadOrCreateAuthority opens this core's CA, creating it on first start. Replicas starting
 * together agree on one CA: the first insert wins and the others open it.
 */
export async function loadOrCreateAuthority(
  deps: ServiceDeps,
  opts: { coreName: string; protector: KeyProtector },
): Promise<{ authority: AuthorityInfo; created: boolean }> {
  const existing = await getAuthority(deps.db);
  if (existing) return { authority: await unseal(existing, opts.protector), created: false };

  const ca = await createCertificateAuthority({ commonName: opts.coreName, now: deps.clock() });
  const sealed = opts.protector.seal(ca.privateKeyPkcs8);
  ca.privateKeyPkcs8.fill(0);
  const stored = await transact(deps, async (tx) => {
    const row = await insertAuthority(tx, {
      subject: ca.subject,
      certificatePem: ca.certificatePem,
      sealedPrivateKey: sealed,
      fingerprint: ca.fingerprint,
      serialNumber: ca.serialNumber,
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
    });
    if (row.fingerprint === ca.fingerprint) {
      await insertAuditEvent(tx, {
        actor: 'system',
        action: 'authority.created',
        targetId: ca.serialNumber,
        details: { subject: ca.subject, fingerprint: ca.fingerprint, keyProtection: opts.protector.source },
        at: deps.clock(),
      });
    }
    return row;
  });
  return { authority: await unseal(stored, opts.protector), created: stored.fingerprint === ca.fingerprint };
}
