import { createPublicKey, type KeyObject } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { readCertificateParts } from './certificate-der.js';
import { PkiError } from './errors.js';
import { decodeSinglePem } from './pem.js';
import { canonicalSerialFromOctets } from './serial-number.js';

const textEncoder = new TextEncoder();

/**
 * encryptForCertificate encrypts to the certificate's public key as a compact JWE (RSA-OAEP-256 for RSA keys,
 * ECDH-ES+A256KW for P-256/P-384; A256GCM), with kid set to the certificate's serial, so only the device holding
 * the private key can read it. The certificate is its DER (as TLS hands it over) or PEM text.
 */
export async function encryptForCertificate(plaintext: string | Uint8Array, certificate: Uint8Array | string): Promise<string> {
  let der: Uint8Array;
  if (typeof certificate === 'string') {
    const decoded = decodeSinglePem(certificate, ['CERTIFICATE']);
    if ('reason' in decoded) {
      throw new PkiError('CERTIFICATE_INVALID', `cannot encrypt to this certificate: ${decoded.reason}`);
    }
    der = decoded.der;
  } else {
    der = certificate;
  }
  let key: KeyObject;
  let serialNumber: string;
  try {
    // One walk of the DER gives both the serial and the key: no second parse of the whole certificate.
    const parts = readCertificateParts(der);
    serialNumber = canonicalSerialFromOctets(parts.serialOctets);
    key = createPublicKey({ key: parts.spkiDer, format: 'der', type: 'spki' });
  } catch {
    throw new PkiError('CERTIFICATE_INVALID', 'cannot encrypt to this certificate: it is not a readable X.509 certificate');
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  let alg: 'RSA-OAEP-256' | 'ECDH-ES+A256KW';
  if (key.asymmetricKeyType === 'rsa') {
    alg = 'RSA-OAEP-256';
  } else if (key.asymmetricKeyType === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')) {
    alg = 'ECDH-ES+A256KW';
  } else {
    throw new PkiError(
      'CERTIFICATE_INVALID',
      `cannot encrypt to a ${key.asymmetricKeyType}${curve ? ` ${curve}` : ''} key (RSA, EC P-256 or EC P-384 only)`,
    );
  }
  const bytes = typeof plaintext === 'string' ? textEncoder.encode(plaintext) : plaintext;
  return new CompactEncrypt(bytes).setProtectedHeader({ alg, enc: 'A256GCM', kid: serialNumber }).encrypt(key);
}
