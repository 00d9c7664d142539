// PKCS#10 requests are encoded here, byte by byte (RFC 2986), for tools that need one without an
// agent: the bulk seed's placeholder requests. Agents build theirs with @peculiar/x509.
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { encodeCommonNameSubject, encodeSignedCertificate } from './certificate-encoding.js';
import { TAG, encodeTlv, encodeUnsignedInteger } from './der.js';

/** ecdsa-with-SHA256 (1.2.840.10045.4.3.2) as an AlgorithmIdentifier, parameters absent (RFC 5758). */
const ECDSA_WITH_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
/** An empty [0] attributes set: a request without extensions or a challenge password. */
const NO_ATTRIBUTES = Buffer.from([TAG.CONTEXT_0, 0]);

/**
 * encodeCertificationRequest writes a PKCS#10 request for `CN=<commonName>` (UTF8String), without
 * attributes, signed with ECDSA SHA-256 by privateKey, an EC P-256 key (the request's own key).
 */
export function encodeCertificationRequest(commonName: string, privateKey: KeyObject): Buffer {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new RangeError('encodeCertificationRequest signs with an EC P-256 private key');
  }
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const info = encodeTlv(TAG.SEQUENCE, encodeUnsignedInteger(0n), encodeCommonNameSubject(commonName), spki, NO_ATTRIBUTES);
  // Node signs ECDSA in DER form, as PKCS#10 carries it; the outer SEQUENCE is a certificate's shape too.
  return encodeSignedCertificate(info, ECDSA_WITH_SHA256, sign('sha256', info, privateKey));
}
