import type { RevocationReason } from '../../domain/revocation.js';
import { encodeSignedCertificate } from '../certificate-encoding.js';
import { encodeRevokedCertificate, encodeTbsCertList, type CrlReasonCode } from '../crl-encoding.js';
import { encodePem } from '../pem.js';
import { normalizeSerialNumber } from '../serial-number.js';
import type { LoadedCa } from './loaded-ca.js';

/** CrlEntry is one revoked certificate as a CRL names it. */
export interface CrlEntry {
  serialNumber: string;
  revokedAt: Date;
  reason: RevocationReason;
}

/**
 * CrlOptions is the content of one CRL: every revoked, unexpired serial, and its number and update
 * times. The entries come as they are (checked, and distinct, here) or already encoded by
 * encodeCrlEntry (the caller keeps them distinct): a CRL reissued with a few more entries than the
 * last need not encode tens of thousands again.
 */
export interface CrlOptions {
  entries: CrlEntry[] | { encoded: readonly Buffer[] };
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

function checkEntry(entry: CrlEntry) {
  const serialNumber = normalizeSerialNumber(entry.serialNumber);
  if (serialNumber.length > MAX_SERIAL_OCTETS * 2) {
    throw new RangeError(`serial number ${serialNumber} is longer than ${MAX_SERIAL_OCTETS} octets`);
  }
  if (!Object.hasOwn(REASON_CODES, entry.reason)) {
    throw new RangeError(`unknown revocation reason ${JSON.stringify(entry.reason)}`);
  }
  return { serialNumber, revokedAt: entry.revokedAt, reasonCode: REASON_CODES[entry.reason] };
}

/** encodeCrlEntry checks and encodes one entry of a CRL (its serial normalised, at most 20 octets), for CrlOptions' encoded entries. */
export function encodeCrlEntry(entry: CrlEntry): { serialNumber: string; der: Buffer } {
  const checked = checkEntry(entry);
  return { serialNumber: checked.serialNumber, der: encodeRevokedCertificate(checked.serialNumber, checked.revokedAt, checked.reasonCode) };
}

/** createCrl signs a v2 CRL of the given entries, PEM; serials are normalised and must be distinct and at most 20 octets. */
export async function createCrl(ca: LoadedCa, opts: CrlOptions): Promise<string> {
  if (!Number.isSafeInteger(opts.crlNumber) || opts.crlNumber < 0) {
    throw new RangeError('the CRL number must be a non-negative integer');
  }
  if (!(opts.nextUpdate.getTime() > opts.thisUpdate.getTime())) {
    throw new RangeError('nextUpdate must come after thisUpdate');
  }
  let encoded: readonly Buffer[];
  if (Array.isArray(opts.entries)) {
    const seen = new Set<string>();
    encoded = opts.entries.map((entry) => {
      const checked = checkEntry(entry);
      if (seen.has(checked.serialNumber)) {
        throw new RangeError(`serial number ${checked.serialNumber} is listed twice`);
      }
      seen.add(checked.serialNumber);
      return encodeRevokedCertificate(checked.serialNumber, checked.revokedAt, checked.reasonCode);
    });
  } else encoded = (opts.entries as { encoded: readonly Buffer[] }).encoded;
  const tbs = encodeTbsCertList({
    signatureAlgorithm: ca.signing.algorithmIdentifier,
    issuerDer: ca.parts.subjectDer,
    authorityKeyId: ca.keyId,
    crlNumber: BigInt(opts.crlNumber),
    thisUpdate: opts.thisUpdate,
    nextUpdate: opts.nextUpdate,
    entries: { encoded },
  });
  // Off the event loop: hashing a CRL's megabytes is most of its signature (about 12 ms at 50,000
  // entries here, BENCHMARKS.md, "Where the large core's extra time goes").
  const crl = encodeSignedCertificate(tbs, ca.signing.algorithmIdentifier, await ca.signing.signOffLoop(tbs));
  return encodePem(crl, 'X509 CRL');
}
