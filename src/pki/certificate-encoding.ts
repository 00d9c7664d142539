// Certificates are encoded here, byte by byte, because issuance is a hot path: @peculiar/x509's generator
// spends about 5 ms building and re-parsing ASN.1 objects around a 0.1 ms native signature. The layout is
// RFC 5280's; openssl checks the result in test/unit/pki.
import { TAG, encodeTime, encodeTlv } from './der.js';

/** Extension OIDs and fixed values, DER-encoded. */
const OID = {
  subjectKeyIdentifier: Buffer.from('0603551d0e', 'hex'), // 2.5.29.14
  keyUsage: Buffer.from('0603551d0f', 'hex'), // 2.5.29.15
  basicConstraints: Buffer.from('0603551d13', 'hex'), // 2.5.29.19
  authorityKeyIdentifier: Buffer.from('0603551d23', 'hex'), // 2.5.29.35
  extKeyUsage: Buffer.from('0603551d25', 'hex'), // 2.5.29.37
  commonName: Buffer.from('0603550403', 'hex'), // 2.5.4.3
  serverAuth: Buffer.from('06082b06010505070301', 'hex'), // 1.3.6.1.5.5.7.3.1
  clientAuth: Buffer.from('06082b06010505070302', 'hex'), // 1.3.6.1.5.5.7.3.2
} as const;
const VERSION_3 = Buffer.from('a003020102', 'hex');
const CRITICAL = Buffer.from('0101ff', 'hex');
const UTF8_STRING = 0x0c;

/** KeyUsageBits are the RFC 5280 keyUsage bits certfleet sets on end-entity certificates. */
export type KeyUsageBits = 'digitalSignature' | 'digitalSignature+keyEncipherment';

/** TbsFields is everything the CA signs in an end-entity certificate, issuer and key as raw DER. */
export interface TbsFields {
  /** Canonical serial (positive, no sign octet needed: the top bit is clear). */
  serialNumber: string;
  signatureAlgorithm: Buffer;
  issuerDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  subjectDer: Buffer;
  spkiDer: Buffer;
  extensions: Buffer[];
}

/** encodeTbsCertificate writes a v3 TBSCertificate. */
export function encodeTbsCertificate(f: TbsFields): Buffer {
  return encodeTlv(
    TAG.SEQUENCE,
    VERSION_3,
    encodeTlv(TAG.INTEGER, Buffer.from(f.serialNumber, 'hex')),
    f.signatureAlgorithm,
    f.issuerDer,
    encodeTlv(TAG.SEQUENCE, encodeTime(f.notBefore), encodeTime(f.notAfter)),
    f.subjectDer,
    f.spkiDer,
    encodeTlv(TAG.CONTEXT_3, encodeTlv(TAG.SEQUENCE, ...f.extensions)),
  );
}

/** encodeSignedCertificate wraps a TBSCertificate with its signature algorithm and signature value. */
export function encodeSignedCertificate(tbs: Buffer, signatureAlgorithm: Buffer, signature: Buffer): Buffer {
  return encodeTlv(TAG.SEQUENCE, tbs, signatureAlgorithm, encodeTlv(TAG.BIT_STRING, Buffer.from([0]), signature));
}

/** encodeCommonNameSubject is the Name `CN=<commonName>` with the value as a UTF8String. */
export function encodeCommonNameSubject(commonName: string): Buffer {
  const attribute = encodeTlv(TAG.SEQUENCE, OID.commonName, encodeTlv(UTF8_STRING, Buffer.from(commonName, 'utf8')));
  return encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.SET, attribute));
}

/** encodeExtension writes one Extension; critical is only written when true (DER omits defaults). */
export function encodeExtension(oid: Buffer, value: Buffer, critical = false): Buffer {
  return encodeTlv(TAG.SEQUENCE, oid, ...(critical ? [CRITICAL] : []), encodeTlv(TAG.OCTET_STRING, value));
}

/** endEntityExtensions are the fixed extensions of a leaf: basicConstraints CA:FALSE and keyUsage (critical), one EKU, SKI and AKI. */
export function endEntityExtensions(opts: {
  keyUsage: KeyUsageBits;
  extendedKeyUsage: 'clientAuth' | 'serverAuth';
  subjectKeyId: Buffer;
  authorityKeyId: Buffer;
}): Buffer[] {
  // Named BIT STRINGs drop trailing zero bits: digitalSignature is bit 0 (0x80, 7 unused bits),
  // keyEncipherment bit 2 (0xa0 with both, 5 unused bits).
  const keyUsageBits = opts.keyUsage === 'digitalSignature' ? Buffer.from([7, 0x80]) : Buffer.from([5, 0xa0]);
  return [
    encodeExtension(OID.basicConstraints, encodeTlv(TAG.SEQUENCE), true),
    encodeExtension(OID.keyUsage, encodeTlv(TAG.BIT_STRING, keyUsageBits), true),
    encodeExtension(OID.extKeyUsage, encodeTlv(TAG.SEQUENCE, OID[opts.extendedKeyUsage])),
    encodeExtension(OID.subjectKeyIdentifier, encodeTlv(TAG.OCTET_STRING, opts.subjectKeyId)),
    encodeExtension(OID.authorityKeyIdentifier, encodeAuthorityKeyIdentifier(opts.authorityKeyId)),
  ];
}

/** encodeAuthorityKeyIdentifier is the AuthorityKeyIdentifier value holding only the keyIdentifier [0]. */
export function encodeAuthorityKeyIdentifier(keyId: Buffer): Buffer {
  return encodeTlv(TAG.SEQUENCE, encodeTlv(0x80, keyId));
}
