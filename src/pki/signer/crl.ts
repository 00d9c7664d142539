import type { RevocationReason } from '../../domain/revocation.js';
import { encodeSignedCertificate } from '../certificate-encoding.js';
import { encodeTbsCertList, type CrlReasonCode } from '../crl-encoding.js';
import { encodePem } from '../pem.js';
import { normalizeSerialNumber } from '../serial-number.js';
import type { LoadedCa } from './loaded-ca.js';

/** CrlOptions is the content of one CRL: every revoked, unexpired serial, and its number and update times. */
export interface CrlOptions {
  entries: { serialNumber: string; revokedAt: Date; reason: RevocationReason }[];
  crlNumber: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

// RFC 5280's CRLReason codes; UNSPECIFIED is written without a reason code, as RFC 5280 asks.
const REASON_CODES: Record<RevocationReason, CrlReasonCode | undefined> = {
  UNSPECIFIED: undefined,
  KEY_COMPROMISE: 1,
  SUPERSEDED: 4,
  CESSATION_OF_OPERATION: 5,
};
const MAX_SERIAL_OCTETS = 20;

/** createCrl signs a v2 CRL of the given entries, PEM; serials are normalised and must be distinct and at most 20 octets. */
export async function createCrl(ca: LoadedCa, opts: CrlOptions): Promise<string> {
  if (!Number.isSafeInteger(opts.crlNumber) || opts.crlNumber < 0) {
    throw new RangeError('the CRL number must be a non-negative integer');
  }
  if (!(opts.nextUpdate.getTime() > opts.thisUpdate.getTime())) {
    throw new RangeError('nextUpdate must come after thisUpdate');
  }
  const seen = new Set<string>();
  const entries = opts.entries.map((entry) => {
    const serialNumber = normalizeSerialNumber(entry.serialNumber);
    if (serialNumber.length > MAX_SERIAL_OCTETS * 2) {
      throw new RangeError(`serial number ${serialNumber} is longer than ${MAX_SERIAL_OCTETS} octets`);
    }
    if (seen.has(serialNumber)) {
      throw new RangeError(`serial number ${serialNumber} is listed twice`);
    }
    seen.add(serialNumber);
    if (!Object.hasOwn(REASON_CODES, entry.reason)) {
      throw new RangeError(`unknown revocation reason ${JSON.stringify(entry.reason)}`);
    }
    return { serialNumber, revokedAt: entry.revokedAt, reasonCode: REASON_CODES[entry.reason] };
  });
  const tbs = encodeTbsCertList({
    signatureAlgorithm: ca.signing.algorithmIdentifier,
    issuerDer: ca.parts.subjectDer,
    authorityKeyId: ca.keyId,
    crlNumber: BigInt(opts.crlNumber),
    thisUpdate: opts.thisUpdate,
    nextUpdate: opts.nextUpdate,
    entries,
  });
  const crl = encodeSignedCertificate(tbs, ca.signing.algorithmIdentifier, ca.signing.sign(tbs));
  return encodePem(crl, 'X509 CRL');
}
