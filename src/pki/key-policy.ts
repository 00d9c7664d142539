import { createHash } from 'node:crypto';
import { DerError, TAG, childrenOf, contentOf, decodeOid, expectTag, readRoot, type DerNode } from './der.js';

/** KeyAlgorithm names an accepted device key: RSA with its modulus size (2048 to 4096 bits), or EC P-256/P-384. */
export type KeyAlgorithm = `RSA-${number}` | 'EC-P256' | 'EC-P384';

/** AcceptedPublicKey is a device public key that passed the key policy. */
export interface AcceptedPublicKey {
  keyAlgorithm: KeyAlgorithm;
  kind: 'rsa' | 'ec';
  /** The SubjectPublicKeyInfo DER exactly as given: issuance copies it verbatim, so fingerprints agree everywhere. */
  spki: Buffer;
  fingerprint: string;
}

const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 4096;
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVES: Record<string, { keyAlgorithm: KeyAlgorithm; pointLength: number }> = {
  '1.2.840.10045.3.1.7': { keyAlgorithm: 'EC-P256', pointLength: 65 },
  '1.3.132.0.34': { keyAlgorithm: 'EC-P384', pointLength: 97 },
};
// Names for the refusals people are likely to meet; anything else is reported by OID.
const KEY_TYPE_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10040.4.1': 'DSA',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};
const CURVE_NAMES: Record<string, string> = {
  '1.3.132.0.35': 'P-521 (secp521r1)',
  '1.3.132.0.10': 'secp256k1',
  '1.2.840.10045.3.1.1': 'P-192 (prime192v1)',
  '1.3.132.0.33': 'P-224 (secp224r1)',
};
const ACCEPTED = 'accepted: RSA 2048-4096 bits with exponent 65537, EC P-256, EC P-384';

/**
 * checkPublicKey applies the device key policy to a SubjectPublicKeyInfo (DER) and returns the key, or a reason it
 * is refused. It reads the DER only (a few microseconds, where an OpenSSL key parse costs a quarter of a
 * millisecond), so issuance can re-check every key it signs; callers that take a key from outside also load it
 * with OpenSSL once, to check the key itself (a point on the curve). Small exponents and odd curves are refused
 * outright: no agent we ship makes them, and they are where weak keys hide.
 */
export function checkPublicKey(spkiDer: Uint8Array): AcceptedPublicKey | { reason: string } {
  const spki = Buffer.from(spkiDer.buffer, spkiDer.byteOffset, spkiDer.byteLength);
  let algorithm: string;
  let parameters: DerNode | undefined;
  let keyBits: Buffer;
  try {
    const [algorithmNode, bitsNode, ...extra] = childrenOf(spki, readRoot(spki));
    const [oid, params, ...extraParams] = childrenOf(spki, expectTag(algorithmNode, TAG.SEQUENCE, 'a key algorithm'));
    if (extra.length > 0 || extraParams.length > 0) {
      throw new DerError('malformed: unexpected fields in the public key');
    }
    algorithm = decodeOid(contentOf(spki, expectTag(oid, TAG.OID, 'a key algorithm OID')));
    parameters = params;
    const bits = contentOf(spki, expectTag(bitsNode, TAG.BIT_STRING, 'the public key bits'));
    if (bits.length < 2 || bits[0] !== 0) {
      throw new DerError('malformed: the public key bits are not whole octets');
    }
    keyBits = bits.subarray(1);
  } catch (err) {
    return { reason: `the public key is malformed (${(err as Error).message})` };
  }

  if (algorithm === RSA_ENCRYPTION) {
    const result = checkRsa(parameters, keyBits);
    return 'reason' in result ? result : accepted(result.keyAlgorithm, 'rsa', spki);
  }
  if (algorithm === EC_PUBLIC_KEY) {
    if (!parameters || parameters.tag !== TAG.OID) {
      return { reason: 'the EC public key does not name its curve' };
    }
    const curveOid = decodeOid(contentOf(spki, parameters));
    const curve = CURVES[curveOid];
    if (!curve) {
      return { reason: `EC curve ${CURVE_NAMES[curveOid] ?? curveOid} is not accepted (only P-256 and P-384)` };
    }
    if (keyBits.length !== curve.pointLength || keyBits[0] !== 0x04) {
      return { reason: 'the EC public key is not an uncompressed point of its curve' };
    }
    return accepted(curve.keyAlgorithm, 'ec', spki);
  }
  return { reason: `key type ${KEY_TYPE_NAMES[algorithm] ?? algorithm} is not accepted (${ACCEPTED})` };
}

/** publicKeyFingerprint is the SHA-256 of a SubjectPublicKeyInfo DER, lower-case hex. */
export function publicKeyFingerprint(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}

function accepted(keyAlgorithm: KeyAlgorithm, kind: 'rsa' | 'ec', spki: Buffer): AcceptedPublicKey {
  return { keyAlgorithm, kind, spki, fingerprint: publicKeyFingerprint(spki) };
}

function checkRsa(parameters: DerNode | undefined, keyBits: Buffer): { keyAlgorithm: KeyAlgorithm } | { reason: string } {
  // RFC 3279: rsaEncryption carries NULL parameters.
  if (!parameters || parameters.tag !== 0x05 || parameters.end !== parameters.contentStart) {
    return { reason: 'the RSA public key algorithm must carry NULL parameters' };
  }
  let modulus: Buffer;
  let exponent: Buffer;
  try {
    const [n, e, ...extra] = childrenOf(keyBits, readRoot(keyBits));
    if (extra.length > 0) throw new DerError('malformed: extra fields in the RSA public key');
    modulus = contentOf(keyBits, expectTag(n, TAG.INTEGER, 'an RSA modulus'));
    exponent = contentOf(keyBits, expectTag(e, TAG.INTEGER, 'an RSA exponent'));
  } catch (err) {
    return { reason: `the RSA public key is malformed (${(err as Error).message})` };
  }
  if (modulus.length === 0 || modulus[0] & 0x80) {
    return { reason: 'the RSA modulus is not a positive integer' };
  }
  let first = 0;
  while (first < modulus.length - 1 && modulus[first] === 0) first++;
  const bits = (modulus.length - first - 1) * 8 + (32 - Math.clz32(modulus[first]));
  if (bits < MIN_RSA_BITS) {
    return { reason: `RSA key of ${bits} bits is too small (at least ${MIN_RSA_BITS})` };
  }
  if (bits > MAX_RSA_BITS) {
    return { reason: `RSA key of ${bits} bits is too large (at most ${MAX_RSA_BITS})` };
  }
  if (exponent.toString('hex') !== '010001') {
    const shown = exponent.length <= 6 ? BigInt(`0x${exponent.toString('hex') || '0'}`).toString() : `0x${exponent.toString('hex').slice(0, 16)}…`;
    return { reason: `RSA public exponent ${shown} is not accepted (only 65537)` };
  }
  return { keyAlgorithm: `RSA-${bits}` };
}
