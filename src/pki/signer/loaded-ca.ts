import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readCertificateParts, readSubjectKeyIdentifier, subjectKeyBits, type CertificateParts } from '../certificate-der.js';
import { PkiError } from '../errors.js';
import { decodeSinglePem, encodePem } from '../pem.js';
import { x509 } from '../x509-provider.js';

/** CaKeyPair is the CA as stored: its certificate and the private key that signs for it. */
export interface CaKeyPair {
  certificatePem: string;
  privateKey: KeyObject;
}

/**
 * SigningKey signs with the CA KeyObject through the synchronous node:crypto sign: for ECDSA it is about half the
 * cost of WebCrypto's (0.04 against 0.09 ms a signature here), which hops through a promise and returns r||s that
 * then needed re-encoding as DER; dsaEncoding 'der' hands back the form X.509 carries.
 */
export interface SigningKey {
  /** The signature AlgorithmIdentifier DER, for structures we encode ourselves. */
  algorithmIdentifier: Buffer;
  /** Signs and returns the signature as X.509 carries it (DER for ECDSA). */
  sign(data: Uint8Array): Buffer;
  /**
   * The same signature, made on libuv's thread pool (node:crypto's callback form): for large data
   * (a CRL of megabytes, whose hashing is most of the work) the event loop goes on meanwhile.
   */
  signOffLoop(data: Uint8Array): Promise<Buffer>;
  /** Verifies a signature as X.509 carries it against the CA public key. */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}

/** LoadedCa is the CA certificate read once, with everything issuing, inspecting and CRLs need from it. */
export interface LoadedCa {
  /** The CA certificate DER, as stored. */
  der: Buffer;
  /** The CA certificate, PEM. */
  certificatePem: string;
  /** The CA subject DN, as text. */
  subject: string;
  /** The certificate's fields as their exact DER bytes (the subject is the issuer of all we sign). */
  parts: CertificateParts;
  /** The key identifier written as the AKI of every certificate and CRL we sign. */
  keyId: Buffer;
  signing: SigningKey;
}

/**
 * loadCa reads the CA certificate once (one PEM block, our DER reader), checks that the key belongs to it and
 * imports the key for signing (EC P-256/P-384 with ECDSA, or RSA with PKCS#1 v1.5 SHA-256).
 */
export async function loadCa(ca: CaKeyPair): Promise<LoadedCa> {
  const decoded = decodeSinglePem(ca.certificatePem, ['CERTIFICATE']);
  if ('reason' in decoded) {
    throw new PkiError('CERTIFICATE_INVALID', `the CA certificate is not usable: ${decoded.reason}`);
  }
  const der = decoded.der;
  let parts: CertificateParts;
  let subject: string;
  let publicKey: KeyObject;
  let subjectKeyId: Buffer | undefined;
  try {
    parts = readCertificateParts(der);
    // The name alone, through the library, so the text reads as it always has (RFC 4514, escaped).
    subject = new x509.Name(parts.subjectDer).toString();
    publicKey = createPublicKey({ key: parts.spkiDer, format: 'der', type: 'spki' });
    subjectKeyId = readSubjectKeyIdentifier(parts.extensionsDer);
  } catch (err) {
    throw new PkiError('CERTIFICATE_INVALID', `the CA certificate is not usable: ${(err as Error).message}`);
  }
  const signing = signingKey(ca.privateKey, publicKey);
  return {
    der,
    certificatePem: encodePem(der, 'CERTIFICATE'),
    subject,
    parts,
    // RFC 5280: the AKI of what we issue is the CA's SKI; a CA certificate without one gets the method-1 hash.
    keyId: subjectKeyId ?? createHash('sha1').update(subjectKeyBits(parts.spkiDer)).digest(),
    signing,
  };
}

function signingKey(privateKey: KeyObject, caPublicKey: KeyObject): SigningKey {
  if (privateKey?.type !== 'private') {
    throw new PkiError('CA_KEY_MISMATCH', 'the CA private key is not a private key');
  }
  const fromPrivate = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!fromPrivate.equals(caPublicKey.export({ type: 'spki', format: 'der' }))) {
    throw new PkiError('CA_KEY_MISMATCH', 'the CA private key does not belong to the CA certificate');
  }
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (type === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')) {
    const digest = curve === 'prime256v1' ? 'sha256' : 'sha384';
    return {
      // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) or ecdsa-with-SHA384 (.3), parameters absent.
      algorithmIdentifier: Buffer.from(digest === 'sha256' ? '300a06082a8648ce3d040302' : '300a06082a8648ce3d040303', 'hex'),
      sign: (data) => sign(digest, data, { key: privateKey, dsaEncoding: 'der' }),
      signOffLoop: (data) => signInPool(digest, data, { key: privateKey, dsaEncoding: 'der' }),
      verify: (data, signature) => safeVerify(digest, data, caPublicKey, signature),
    };
  }
  if (type === 'rsa') {
    return {
      // sha256WithRSAEncryption (1.2.840.113549.1.1.11), NULL parameters; an 'rsa' KeyObject signs PKCS#1 v1.5 by default.
      algorithmIdentifier: Buffer.from('300d06092a864886f70d01010b0500', 'hex'),
      sign: (data) => sign('sha256', data, privateKey),
      signOffLoop: (data) => signInPool('sha256', data, privateKey),
      verify: (data, signature) => safeVerify('sha256', data, caPublicKey, signature),
    };
  }
  throw new PkiError('CA_KEY_UNSUPPORTED', `a CA key of type ${type}${curve ? ` (${curve})` : ''} cannot sign here; use EC P-256, EC P-384 or RSA`);
}

function signInPool(digest: string, data: Uint8Array, key: KeyObject | { key: KeyObject; dsaEncoding: 'der' }): Promise<Buffer> {
  return new Promise((resolve, reject) => sign(digest, data, key, (err, signature) => (err ? reject(err) : resolve(signature))));
}

function safeVerify(digest: string, data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  try {
    return verify(digest, data, key, signature);
  } catch {
    return false; // a malformed ECDSA signature throws instead of failing
  }
}
