/**
 * Placeholder certificates and requests for the bulk seed.
 *
 * The seed cannot sign a million certificates with the core's CA (it may not even exist yet: the
 * core creates it on first start), and it must not: nothing seeded may be trusted. So
 * certificate_pem and csr_pem hold placeholders that parse as a real X.509 certificate / PKCS#10
 * request with this device's CN, serial number, validity and key, but whose signatures verify with
 * nothing: they are templates issued once per run by a throwaway CA ("certfleet-bulk-seed
 * placeholder certfleet CA", key discarded) and then patched per row, which breaks the signature.
 * This is safe because the app never trusts a stored PEM: a connection is judged by the certificate
 * the device presents in TLS (checked against the core CA), certificate_pem is only handed back to
 * agents and the API, and the CSR is only parsed again when public_key_spki is empty. The seed
 * always fills public_key_spki with a real P-256 key (from a small per-seed pool), so approving a
 * seeded PENDING request issues a real certificate from the core CA. Serial numbers are canonical
 * (16 octets, 32 lower-case hex digits, top bit clear) and unique; the CRL names the seeded REVOKED
 * ones that are not expired, as it would real ones (from the next CRL the core issues: the seed
 * does not reissue it); no real certificate carries them. The placeholders' signature bytes differ
 * from run to run, even with the same seed.
 */
import { createECDH, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { createCaSigner, createCertificateAuthority, publicKeyFingerprint } from '../pki/index.js';
import { encodeTime } from '../pki/der.js';
import { decodeSinglePem, encodePem } from '../pki/pem.js';
import { encodeCertificationRequest } from '../pki/request-encoding.js';

/** KEY_POOL_SIZE is how many distinct keys a run's certificates and requests share. */
export const KEY_POOL_SIZE = 8;
// Placeholder agent id in the templates: 36 characters like every seeded agent id, and never hex.
const TEMPLATE_CN = 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz';

/** PoolKey is one key of the pool, with its certificate and request templates. */
export interface PoolKey {
  spkiBase64: string;
  fingerprint: string;
  csr: Template;
  certificate: Template;
}

/** Template is a DER structure with the byte offsets of the fields patched per row. */
export interface Template {
  der: Buffer;
  cnAt: number;
  serialAt: number;
  notBeforeAt: number;
  notAfterAt: number;
}

function locateOnce(der: Buffer, part: Buffer, what: string): number {
  const at = der.indexOf(part);
  if (at < 0 || der.indexOf(part, at + 1) >= 0) throw new Error(`bulk seed: the template ${what} is not found exactly once`);
  return at;
}

/** poolKey derives a P-256 key from the seed, so the same seed gives the same public keys. */
function poolKey(seed: number, k: number): { privateKey: KeyObject; spki: Buffer } {
  for (let attempt = 0; ; attempt++) {
    const d = createHash('sha256').update(`certfleet bulk seed key ${seed} ${k} ${attempt}`).digest();
    try {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(d);
      const point = ecdh.getPublicKey();
      const privateKey = createPrivateKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          d: d.toString('base64url'),
          x: point.subarray(1, 33).toString('base64url'),
          y: point.subarray(33, 65).toString('base64url'),
        },
        format: 'jwk',
      });
      return { privateKey, spki: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }) };
    } catch (err) {
      // A hash at or above the curve order is not a private key (odds about 2^-32): hash again.
      if (attempt > 3) throw err;
    }
  }
}

/** csrTemplate is a PKCS#10 request for TEMPLATE_CN signed with the pool key (the signature breaks once patched). */
function csrTemplate(privateKey: KeyObject): Template {
  const der = encodeCertificationRequest(TEMPLATE_CN, privateKey);
  return { der, cnAt: locateOnce(der, Buffer.from(TEMPLATE_CN, 'latin1'), 'CN'), serialAt: -1, notBeforeAt: -1, notAfterAt: -1 };
}

/** buildKeyPool makes the pool keys and, per key, a certificate template from a throwaway CA and a CSR template. */
export async function buildKeyPool(seed: number, now: number, certificateDays: number): Promise<PoolKey[]> {
  const ca = await createCertificateAuthority({ commonName: 'certfleet-bulk-seed placeholder', now: new Date(now) });
  const signer = await createCaSigner({
    certificatePem: ca.certificatePem,
    privateKey: createPrivateKey({ key: ca.privateKeyPkcs8, format: 'der', type: 'pkcs8' }),
  });
  const pool: PoolKey[] = [];
  for (let k = 0; k < KEY_POOL_SIZE; k++) {
    const { privateKey, spki } = poolKey(seed, k);
    const issued = await signer.issueClientCertificate({
      subjectCommonName: TEMPLATE_CN,
      publicKeySpki: spki,
      validityDays: certificateDays,
      now: new Date(now),
    });
    const decoded = decodeSinglePem(issued.certificatePem, ['CERTIFICATE']);
    if ('reason' in decoded) throw new Error(`bulk seed: the template certificate is not PEM: ${decoded.reason}`);
    const der = decoded.der;
    pool.push({
      spkiBase64: spki.toString('base64'),
      fingerprint: publicKeyFingerprint(spki),
      csr: csrTemplate(privateKey),
      certificate: {
        der,
        cnAt: locateOnce(der, Buffer.from(TEMPLATE_CN, 'latin1'), 'CN'),
        serialAt: locateOnce(der, Buffer.from(issued.serialNumber, 'hex'), 'serial number'),
        notBeforeAt: locateOnce(der, encodeTime(issued.notBefore), 'notBefore'),
        notAfterAt: locateOnce(der, encodeTime(issued.notAfter), 'notAfter'),
      },
    });
  }
  return pool;
}

/** patchedCsrPem is the request template with the device's agent id as its CN. */
export function patchedCsrPem(t: Template, agentId: string): string {
  const der = Buffer.from(t.der);
  der.write(agentId, t.cnAt, 'latin1');
  return encodePem(der, 'CERTIFICATE REQUEST');
}

function patchTime(der: Buffer, at: number, ms: number): void {
  const time = encodeTime(new Date(ms));
  // Seeded times are UTCTime (before 2050), as long as the template's.
  if (time.length !== 15) throw new RangeError('bulk seed: certificate times must fall before 2050');
  time.copy(der, at);
}

/** patchedCertificatePem is the certificate template with the device's agent id, serial number and validity. */
export function patchedCertificatePem(t: Template, agentId: string, serial: string, notBefore: number, notAfter: number): string {
  const der = Buffer.from(t.der);
  der.write(agentId, t.cnAt, 'latin1');
  der.write(serial, t.serialAt, 'hex');
  patchTime(der, t.notBeforeAt, notBefore);
  patchTime(der, t.notAfterAt, notAfter);
  return encodePem(der, 'CERTIFICATE');
}
