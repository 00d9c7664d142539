import { X509Certificate } from 'node:crypto';
import { readCertificateParts, readCommonNames, type CertificateParts } from '../certificate-der.js';
import { DerError } from '../der.js';
import { PkiError } from '../errors.js';
import { publicKeyFingerprint } from '../key-policy.js';
import { canonicalSerialFromOctets } from '../serial-number.js';
import type { LoadedCa } from './loaded-ca.js';

/** InspectOptions says what the TLS layer already established about the certificate. */
export interface InspectOptions {
  /**
   * The TLS handshake that presented this certificate verified its chain to this very CA with no
   * error at all (Node's `socket.authorized` on a listener whose only `ca` is this CA; OpenSSL keeps
   * the verdict in the session, so it holds for a resumed session too). Then the CA's signature is
   * not verified again here; the issuer and algorithm are still compared byte for byte. Absent or
   * false: the signature is verified here, as for a certificate the TLS layer did not vouch for.
   */
  chainVerifiedByTls?: boolean;
}

/** PresentedCertificate is what a TLS client certificate says about itself, and whether this CA vouches for it. */
export interface PresentedCertificate {
  /** The issuer DN equals the CA subject byte for byte and the CA key verifies the signature; false for the CA certificate itself. */
  chainsToCa: boolean;
  /** The issuer equals the subject and the certificate's own key verifies its signature. */
  selfSigned: boolean;
  /** Canonical form, as issueClientCertificate returns it. */
  serialNumber: string;
  /** The subject CN when there is exactly one, else null. */
  subjectCommonName: string | null;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the SubjectPublicKeyInfo DER, lower-case hex, comparable with ParsedCsr.publicKeyFingerprint. */
  publicKeyFingerprint: string;
  /** The extended key usage is absent or includes clientAuth. */
  hasClientAuth: boolean;
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** inspectPresentedCertificate reads a TLS client certificate's DER and says whether this CA signed it; unreadable DER is CERTIFICATE_INVALID. */
export function inspectPresentedCertificate(ca: LoadedCa, der: Buffer, opts: InspectOptions = {}): PresentedCertificate {
  let parts: CertificateParts;
  try {
    parts = readCertificateParts(der);
  } catch (err) {
    const why = err instanceof DerError ? err.message : 'not a DER X.509 certificate';
    throw new PkiError('CERTIFICATE_INVALID', `the presented certificate is unreadable: ${why}`);
  }
  // Straight from the DER to one native verify, unless OpenSSL already verified this chain to this CA
  // in the handshake (then a second verify could only agree).
  const chainsToCa =
    !ca.der.equals(der) &&
    parts.issuerDer.equals(ca.parts.subjectDer) &&
    parts.signatureAlgorithmDer.equals(ca.signing.algorithmIdentifier) &&
    (opts.chainVerifiedByTls === true || ca.signing.verify(parts.tbsDer, parts.signature));
  // Rare and of any algorithm: hand it to OpenSSL whole, and only when the names say it may be self-signed.
  const selfSigned = parts.issuerDer.equals(parts.subjectDer) && verifiesWithOwnKey(der);
  return {
    chainsToCa,
    selfSigned,
    serialNumber: canonicalSerialFromOctets(parts.serialOctets),
    subjectCommonName: readSingleCommonName(parts.subjectDer),
    notBefore: parts.notBefore,
    notAfter: parts.notAfter,
    publicKeyFingerprint: publicKeyFingerprint(parts.spkiDer),
    hasClientAuth: parts.extendedKeyUsage === undefined || parts.extendedKeyUsage.includes(CLIENT_AUTH_OID),
  };
}

function verifiesWithOwnKey(der: Buffer): boolean {
  try {
    const certificate = new X509Certificate(der);
    return certificate.verify(certificate.publicKey);
  } catch {
    return false; // OpenSSL cannot read it or its key: it cannot be shown to be self-signed
  }
}

function readSingleCommonName(subjectDer: Buffer): string | null {
  try {
    const names = readCommonNames(subjectDer);
    return names.length === 1 ? names[0] : null;
  } catch {
    return null;
  }
}
