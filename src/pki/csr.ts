import { createPublicKey } from 'node:crypto';
import { forbiddenCharactersIn, MAX_COMMON_NAME_LENGTH } from '../domain/names.js';
import { PkiError } from './errors.js';
import { checkPublicKey, type KeyAlgorithm } from './key-policy.js';
import { readCommonNames, readRequestSubject } from './certificate-der.js';
import { DerError, readRoot } from './der.js';
import { decodeSinglePem, encodePem } from './pem.js';
import { x509 } from './x509-provider.js';

/** ParsedCsr is a certificate request that passed every check: the agent id it names and the key it proved it holds. */
export interface ParsedCsr {
  /** The subject CN, which is the agent id. */
  subjectCommonName: string;
  keyAlgorithm: KeyAlgorithm;
  /** SHA-256 of the SubjectPublicKeyInfo DER, lower-case hex: the same key always gives the same value. */
  publicKeyFingerprint: string;
  /** SubjectPublicKeyInfo DER, to be passed to issueClientCertificate. */
  publicKeySpki: Buffer;
  /** The request re-encoded as one PEM block (64-column lines, LF). */
  csrPem: string;
}

// Windows certreq writes "NEW CERTIFICATE REQUEST"; both mean PKCS#10.
const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'] as const;
const ACCEPTED_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);

/**
 * parseCertificateRequest checks a PKCS#10 request end to end (one PEM block, DER, key policy, proof of
 * possession, exactly one usable CN) and returns what issuance needs; every refusal is CSR_INVALID with its reason.
 */
export async function parseCertificateRequest(pem: string): Promise<ParsedCsr> {
  const decoded = decodeSinglePem(pem, CSR_LABELS);
  if ('reason' in decoded) {
    throw invalid(decoded.reason);
  }
  const { der } = decoded;

  let request: x509.Pkcs10CertificateRequest;
  try {
    readRoot(der);
    request = new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    throw invalid(err instanceof DerError ? `malformed DER: ${err.message}` : 'malformed: not a PKCS#10 certificate request');
  }

  let spki: ArrayBuffer;
  try {
    spki = request.publicKey.rawData;
  } catch {
    throw invalid('malformed: the public key cannot be read');
  }
  const key = checkPublicKey(new Uint8Array(spki));
  if ('reason' in key) {
    throw invalid(key.reason);
  }
  try {
    // The DER looked right; OpenSSL now checks the key itself (an RSA modulus, a point on the curve).
    createPublicKey({ key: key.spki, format: 'der', type: 'spki' });
  } catch {
    throw invalid('the public key is not a valid key of its type');
  }

  await checkProofOfPossession(request);
  const subjectCommonName = readCommonName(der);

  return {
    subjectCommonName,
    keyAlgorithm: key.keyAlgorithm,
    publicKeyFingerprint: key.fingerprint,
    publicKeySpki: key.spki,
    csrPem: encodePem(der, 'CERTIFICATE REQUEST'),
  };
}

// The signature over the request, made with the request's own key, is the agent's proof that it holds that key.
async function checkProofOfPossession(request: x509.Pkcs10CertificateRequest): Promise<void> {
  let hash: string | undefined;
  try {
    hash = request.signatureAlgorithm.hash?.name;
  } catch {
    throw invalid('the signature algorithm is not supported');
  }
  if (!hash || !ACCEPTED_HASHES.has(hash)) {
    throw invalid(`the request is signed with ${hash ?? 'an unknown hash'}; SHA-256, SHA-384 or SHA-512 is required`);
  }
  let verified = false;
  try {
    verified = await request.verify();
  } catch {
    // A signature algorithm that does not fit the key (an ECDSA signature on an RSA key, say) cannot verify either.
    verified = false;
  }
  if (!verified) {
    throw invalid('the signature does not verify with the request\'s own public key (no proof of possession of the private key)');
  }
}

function readCommonName(der: Buffer): string {
  let names: string[];
  try {
    names = readCommonNames(readRequestSubject(der));
  } catch (err) {
    throw invalid(`malformed subject: ${(err as Error).message}`);
  }
  if (names.length === 0) {
    throw invalid('the subject has no common name (CN); it must be the agent id');
  }
  if (names.length > 1) {
    throw invalid(`the subject has ${names.length} common names (CN); exactly one, the agent id, is allowed`);
  }
  const reason = commonNameProblem(names[0]);
  if (reason) {
    throw invalid(reason);
  }
  return names[0];
}

/** commonNameProblem says what is wrong with an agent id used as a subject CN, or returns undefined if nothing is. */
export function commonNameProblem(commonName: string): string | undefined {
  if (commonName.trim() === '') {
    return 'the subject common name (CN) is empty';
  }
  const length = [...commonName].length;
  if (length > MAX_COMMON_NAME_LENGTH) {
    return `the subject common name (CN) is ${length} characters long; at most ${MAX_COMMON_NAME_LENGTH}`;
  }
  // An id ends up in logs and DN strings, where control characters forge lines and separators (src/domain/names.ts).
  const forbidden = forbiddenCharactersIn(commonName);
  if (forbidden) {
    return `the subject common name (CN) contains ${forbidden}`;
  }
  return undefined;
}

function invalid(reason: string): PkiError {
  return new PkiError('CSR_INVALID', reason);
}
