// CRLs are encoded here rather than through @peculiar/x509, whose generator is slow per entry and checks
// duplicates pairwise (quadratic): a fleet of a million devices can revoke tens of thousands of certificates.
import { encodeAuthorityKeyIdentifier, encodeExtension } from './certificate-encoding.js';
import { TAG, encodeTime, encodeTlv, encodeTlvList, encodeUnsignedInteger } from './der.js';

/** CrlReasonCode is an RFC 5280 5.3.1 reason code certfleet writes: keyCompromise, superseded, cessationOfOperation. */
export type CrlReasonCode = 1 | 4 | 5;

/** TbsCertListFields is everything the CA signs in a CRL; serials canonical and distinct, at most 20 octets. */
export interface TbsCertListFields {
  signatureAlgorithm: Buffer;
  issuerDer: Buffer;
  authorityKeyId: Buffer;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** reasonCode undefined writes no reason, which is how RFC 5280 wants "unspecified"; or entries encoded by encodeRevokedCertificate. */
  entries: { serialNumber: string; revokedAt: Date; reasonCode: CrlReasonCode | undefined }[] | { encoded: readonly Buffer[] };
}

const OID_CRL_NUMBER = Buffer.from('0603551d14', 'hex'); // 2.5.29.20
const OID_CRL_REASON = Buffer.from('0603551d15', 'hex'); // 2.5.29.21
const OID_AUTHORITY_KEY_ID = Buffer.from('0603551d23', 'hex'); // 2.5.29.35
const VERSION_2 = encodeUnsignedInteger(1n);
const EMPTY = Buffer.alloc(0);
// crlEntryExtensions holding only a reasonCode, one per code, built once.
const REASON_EXTENSIONS: Record<CrlReasonCode, Buffer> = {
  1: reasonExtensions(1),
  4: reasonExtensions(4),
  5: reasonExtensions(5),
};

/** encodeTbsCertList writes a v2 TBSCertList with the authority key identifier and CRL number extensions. */
export function encodeTbsCertList(f: TbsCertListFields): Buffer {
  const revoked = Array.isArray(f.entries)
    ? f.entries.map((entry) => encodeRevokedCertificate(entry.serialNumber, entry.revokedAt, entry.reasonCode))
    : (f.entries as { encoded: readonly Buffer[] }).encoded;
  return encodeTlv(
    TAG.SEQUENCE,
    VERSION_2,
    f.signatureAlgorithm,
    f.issuerDer,
    encodeTime(f.thisUpdate),
    encodeTime(f.nextUpdate),
    // RFC 5280 5.1.2.6: with no entries, the list is left out rather than written empty.
    ...(revoked.length > 0 ? [encodeTlvList(TAG.SEQUENCE, revoked)] : []),
    encodeTlv(
      TAG.CONTEXT_0,
      encodeTlv(
        TAG.SEQUENCE,
        encodeExtension(OID_AUTHORITY_KEY_ID, encodeAuthorityKeyIdentifier(f.authorityKeyId)),
        encodeExtension(OID_CRL_NUMBER, encodeUnsignedInteger(f.crlNumber)),
      ),
    ),
  );
}

/** encodeRevokedCertificate writes one revokedCertificates entry; the serial canonical (no sign octet), at most 20 octets. */
// One allocation per entry (plus its serial and time): this runs once per revoked certificate.
export function encodeRevokedCertificate(serial: string, revokedAt: Date, reasonCode: CrlReasonCode | undefined): Buffer {
  // The canonical serial drops the sign octet; DER needs it back when the top bit is set.
  const octets = Buffer.from(serial, 'hex');
  const pad = octets[0] & 0x80 ? 1 : 0;
  const time = encodeTime(revokedAt);
  const reason = reasonCode === undefined ? EMPTY : REASON_EXTENSIONS[reasonCode];
  // Serials are at most 20 octets, so every length here fits the one-octet form.
  const length = 2 + pad + octets.length + time.length + reason.length;
  const out = Buffer.allocUnsafe(2 + length);
  out[0] = TAG.SEQUENCE;
  out[1] = length;
  out[2] = TAG.INTEGER;
  out[3] = pad + octets.length;
  let at = 4;
  if (pad) out[at++] = 0;
  at += octets.copy(out, at);
  at += time.copy(out, at);
  reason.copy(out, at);
  return out;
}

function reasonExtensions(code: CrlReasonCode): Buffer {
  return encodeTlv(TAG.SEQUENCE, encodeExtension(OID_CRL_REASON, encodeTlv(TAG.ENUMERATED, Buffer.from([code]))));
}
