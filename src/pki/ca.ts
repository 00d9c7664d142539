import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, webcrypto } from 'node:crypto';
import { forbiddenCharactersIn } from '../domain/names.js';
import { CLOCK_SKEW_MS } from '../domain/time.js';
import { PkiError } from './errors.js';
import { decodeSinglePem, encodePem } from './pem.js';
import { randomSerialNumber } from './serial-number.js';
import { x509 } from './x509-provider.js';

/** CreatedAuthority is a new CA: its certificate, its private key (DER PKCS#8, to be sealed before storing) and a summary. */
export interface CreatedAuthority extends CertificateSummary {
  certificatePem: string;
  privateKeyPkcs8: Buffer;
}

/** CertificateSummary is what operators and logs need to recognise a certificate without parsing it again. */
export interface CertificateSummary {
  subject: string;
  /** SHA-256 of the certificate DER, lower-case hex without colons. */
  fingerprint: string;
  /** Lower-case hex, without the DER sign-padding byte. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

const VALIDITY_YEARS = 10;
const EC_KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/** createCertificateAuthority makes a new self-signed P-256 CA, valid ten years, that may sign end-entity certificates only. */
export async function createCertificateAuthority(opts: { commonName: string; now?: Date }): Promise<CreatedAuthority> {
  const commonName = opts.commonName.trim();
  // Config hands us a host name; an empty name, or one with control characters, would make an unreadable subject.
  const forbidden = forbiddenCharactersIn(commonName);
  if (commonName === '' || forbidden) {
    throw new RangeError(`CA common name must be a non-empty name without ${forbidden ?? 'control characters'}`);
  }
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);

  const keys = await webcrypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']);

  // Typed values (not a DN string, nor plain JSON strings) so quotes, commas, '+' or a leading '#'
  // in the host name are taken literally instead of being parsed as DN syntax.
  const name = new x509.Name([
    { CN: [{ utf8String: `${commonName} certfleet CA` }] },
    { O: [{ utf8String: 'certfleet' }] },
  ]);

  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // pathLength 0: this CA issues device certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });

  const certificatePem = encodePem(certificate.rawData, 'CERTIFICATE');
  const privateKeyPkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certificatePem, privateKeyPkcs8, ...summarize(certificate) };
}

/** describeCertificate reads the identifying fields of one PEM certificate; anything else is CERTIFICATE_INVALID. */
export function describeCertificate(pem: string): CertificateSummary {
  return summarize(parseCertificatePem(pem));
}

/** checkKeyMatchesCertificate proves the key signs for the certificate, so a swapped key or certificate fails at start-up, not at the first issue. */
export async function checkKeyMatchesCertificate(certificatePem: string, privateKeyPkcs8: Buffer): Promise<void> {
  const certificate = parseCertificatePem(certificatePem);
  let privateKey;
  try {
    privateKey = createPrivateKey({ key: privateKeyPkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    throw new PkiError('CA_KEY_MISMATCH', 'the CA private key is not a readable PKCS#8 key');
  }
  const publicKey = createPublicKey({ key: Buffer.from(certificate.publicKey.rawData), format: 'der', type: 'spki' });
  // EdDSA keys hash internally and take no digest name; every other key type here signs SHA-256.
  const digest = privateKey.asymmetricKeyType === 'ed25519' || privateKey.asymmetricKeyType === 'ed448' ? null : 'sha256';
  const challenge = randomBytes(32);
  let matches = false;
  try {
    const signature = sign(digest, challenge, privateKey);
    matches = verify(digest, challenge, publicKey, signature);
  } catch {
    // A key of another type or curve cannot even be used with this public key: a mismatch too.
    matches = false;
  }
  if (!matches) {
    throw new PkiError(
      'CA_KEY_MISMATCH',
      `the CA private key does not belong to the CA certificate (${certificate.subject}); restore the matching key or certificate`,
    );
  }
}

function parseCertificatePem(pem: string): x509.X509Certificate {
  // One PEM rule for every certificate we read: exactly one CERTIFICATE block (the library alone would also take bare base64 or hex).
  const decoded = decodeSinglePem(pem, ['CERTIFICATE']);
  if ('reason' in decoded) {
    throw new PkiError('CERTIFICATE_INVALID', `not a PEM certificate: ${decoded.reason}`);
  }
  try {
    return new x509.X509Certificate(decoded.der);
  } catch (err) {
    throw new PkiError('CERTIFICATE_INVALID', `not a PEM certificate: ${(err as Error).message}`);
  }
}

function summarize(certificate: x509.X509Certificate): CertificateSummary {
  return {
    subject: certificate.subject,
    fingerprint: createHash('sha256').update(Buffer.from(certificate.rawData)).digest('hex'),
    serialNumber: certificate.serialNumber.toLowerCase(),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}
