import { createHash, createPublicKey, generateKeyPair, verify, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import type { RevocationReason } from '../domain/revocation.js';
import { CLOCK_SKEW_MS, DAY_MS } from '../domain/time.js';
import { readCertificateParts, readCommonNames, subjectKeyBits, type CertificateParts } from './certificate-der.js';
import { commonNameProblem } from './csr.js';
import {
  encodeCommonNameSubject,
  encodeSignedCertificate,
  encodeTbsCertificate,
  endEntityExtensions,
  type KeyUsageBits,
} from './certificate-encoding.js';
import { encodeTbsCertList, type CrlReasonCode } from './crl-encoding.js';
import { DerError, ecdsaSignatureToDer } from './der.js';
import { PkiError } from './errors.js';
import { checkPublicKey, publicKeyFingerprint } from './key-policy.js';
import { decodeSinglePem, encodePem } from './pem.js';
import { canonicalSerialFromOctets, normalizeSerialNumber, randomSerialNumber } from './serial-number.js';
import { x509 } from './x509-provider.js';

/** ClientCertificateRequest is what issuance needs from an approved request: the agent id and the key it proved it holds. */
export interface ClientCertificateRequest {
  /** The agent id, written as the subject CN (UTF8String). */
  subjectCommonName: string;
  /** SubjectPublicKeyInfo DER, as returned by parseCertificateRequest. */
  publicKeySpki: Buffer;
  validityDays: number;
  /** Overrides validityDays when set (tests issue certificates that expire in seconds). */
  validitySeconds?: number;
  now?: Date;
}

/** IssuedCertificate is a certificate the CA signed, with the facts services store beside it. */
export interface IssuedCertificate {
  certificatePem: string;
  /** Canonical form: lower-case hex, whole octets, no leading zero octet (see normalizeSerialNumber); 32 digits for certfleet serials. */
  serialNumber: string;
  /** As encoded in the certificate, to the second. */
  notBefore: Date;
  notAfter: Date;
}

/** ServerCertificateRequest names the host names and addresses the agent gateway answers on. */
export interface ServerCertificateRequest {
  hostnames: string[];
  ipAddresses: string[];
  validityDays: number;
  now?: Date;
}

/** ServerCertificate is a TLS server certificate and its fresh P-256 private key (PKCS#8 PEM). */
export interface ServerCertificate extends IssuedCertificate {
  privateKeyPem: string;
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

/** CrlOptions is the content of one CRL: every revoked, unexpired serial, and its number and update times. */
export interface CrlOptions {
  entries: { serialNumber: string; revokedAt: Date; reason: RevocationReason }[];
  crlNumber: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

/** CaSigner signs with the CA key, imported once into WebCrypto so each signature is a native call. */
export interface CaSigner {
  /** The CA certificate, PEM. */
  readonly certificatePem: string;
  /** The CA subject DN, as text. */
  readonly subject: string;
  issueClientCertificate(req: ClientCertificateRequest): Promise<IssuedCertificate>;
  issueServerCertificate(opts: ServerCertificateRequest): Promise<ServerCertificate>;
  inspectPresentedCertificate(der: Buffer): PresentedCertificate;
  createCrl(opts: CrlOptions): Promise<string>;
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
// RFC 5280's CRLReason codes; UNSPECIFIED is written without a reason code, as RFC 5280 asks.
const REASON_CODES: Record<RevocationReason, CrlReasonCode | undefined> = {
  UNSPECIFIED: undefined,
  KEY_COMPROMISE: 1,
  SUPERSEDED: 4,
  CESSATION_OF_OPERATION: 5,
};
const MAX_SERIAL_OCTETS = 20;
const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

const generateKeyPairAsync = promisify(generateKeyPair);

interface SigningKey {
  key: webcrypto.CryptoKey;
  /** The signature AlgorithmIdentifier DER, for structures we encode ourselves. */
  algorithmIdentifier: Buffer;
  /** Signs and returns the signature as X.509 carries it (DER for ECDSA). */
  sign(data: Uint8Array): Promise<Buffer>;
  /** Verifies a signature as X.509 carries it against the CA public key. */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}

/** createCaSigner checks that the key belongs to the CA certificate and imports it once for signing (EC P-256/P-384 with ECDSA, or RSA with PKCS#1 v1.5 SHA-256). */
export async function createCaSigner(ca: { certificatePem: string; privateKey: KeyObject }): Promise<CaSigner> {
  const decoded = decodeSinglePem(ca.certificatePem, ['CERTIFICATE']);
  if ('reason' in decoded) {
    throw new PkiError('CERTIFICATE_INVALID', `the CA certificate is not usable: ${decoded.reason}`);
  }
  const caDer = decoded.der;
  let caParts: CertificateParts;
  let caCertificate: x509.X509Certificate;
  let caPublicKey: KeyObject;
  try {
    caParts = readCertificateParts(caDer);
    caCertificate = new x509.X509Certificate(caDer);
    caPublicKey = new X509Certificate(caDer).publicKey;
  } catch (err) {
    throw new PkiError('CERTIFICATE_INVALID', `the CA certificate is not usable: ${(err as Error).message}`);
  }
  const signing = await importSigningKey(ca.privateKey, caPublicKey);
  // RFC 5280: the AKI of what we issue is the CA's SKI; a CA certificate without one gets the method-1 hash.
  const caKeyId = Buffer.from(
    caCertificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ??
      createHash('sha1').update(subjectKeyBits(caParts.spkiDer)).digest('hex'),
    'hex',
  );

  // Never issue past the CA's own end: a chain is only as valid as its shortest link.
  const validity = (now: Date, lifetimeMs: number): { notBefore: Date; notAfter: Date } => {
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
      throw new RangeError('now must be a valid Date');
    }
    if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
      throw new RangeError('the validity must be a positive, finite duration');
    }
    const notBefore = wholeSeconds(now.getTime() - CLOCK_SKEW_MS);
    const notAfter = wholeSeconds(Math.min(now.getTime() + lifetimeMs, caParts.notAfter.getTime()));
    if (notAfter.getTime() <= now.getTime()) {
      throw new PkiError('CA_EXPIRED', `the CA certificate expired on ${caParts.notAfter.toISOString()}; it cannot issue`);
    }
    return { notBefore, notAfter };
  };

  const issue = async (opts: {
    subjectDer: Buffer;
    spkiDer: Buffer;
    notBefore: Date;
    notAfter: Date;
    keyUsage: KeyUsageBits;
    extendedKeyUsage: 'clientAuth' | 'serverAuth';
    more?: Buffer[];
  }): Promise<IssuedCertificate> => {
    const serialNumber = randomSerialNumber();
    const [basicConstraints, keyUsage, extendedKeyUsage, ...identifiers] = endEntityExtensions({
      keyUsage: opts.keyUsage,
      extendedKeyUsage: opts.extendedKeyUsage,
      subjectKeyId: createHash('sha1').update(subjectKeyBits(opts.spkiDer)).digest(),
      authorityKeyId: caKeyId,
    });
    const tbs = encodeTbsCertificate({
      serialNumber,
      signatureAlgorithm: signing.algorithmIdentifier,
      issuerDer: caParts.subjectDer,
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
      subjectDer: opts.subjectDer,
      spkiDer: opts.spkiDer,
      extensions: [basicConstraints, keyUsage, extendedKeyUsage, ...(opts.more ?? []), ...identifiers],
    });
    const certificate = encodeSignedCertificate(tbs, signing.algorithmIdentifier, await signing.sign(tbs));
    return {
      certificatePem: encodePem(certificate, 'CERTIFICATE'),
      serialNumber,
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
    };
  };

  return {
    certificatePem: encodePem(caDer, 'CERTIFICATE'),
    subject: caCertificate.subject,

    async issueClientCertificate(req) {
      const cnProblem =
        typeof req.subjectCommonName === 'string' ? commonNameProblem(req.subjectCommonName) : 'no subject common name';
      if (cnProblem) {
        throw new PkiError('CSR_INVALID', cnProblem);
      }
      const key = checkPublicKey(req.publicKeySpki);
      if ('reason' in key) {
        throw new PkiError('CSR_INVALID', key.reason);
      }
      const lifetimeMs = req.validitySeconds !== undefined ? req.validitySeconds * 1000 : req.validityDays * DAY_MS;
      const { notBefore, notAfter } = validity(req.now ?? new Date(), lifetimeMs);
      return issue({
        subjectDer: encodeCommonNameSubject(req.subjectCommonName),
        spkiDer: key.spki,
        notBefore,
        notAfter,
        // RSA keys may also be used for RSA key transport (TLS 1.2 RSA key exchange, some Windows stacks).
        keyUsage: key.kind === 'rsa' ? 'digitalSignature+keyEncipherment' : 'digitalSignature',
        extendedKeyUsage: 'clientAuth',
      });
    },

    async issueServerCertificate(opts) {
      const hostnames = opts.hostnames.map((name) => name.trim().toLowerCase().replace(/\.$/, ''));
      const ipAddresses = opts.ipAddresses.map((ip) => ip.trim());
      if (hostnames.length + ipAddresses.length === 0) {
        throw new RangeError('a server certificate needs at least one host name or IP address');
      }
      for (const name of hostnames) {
        if (name.length > 253 || !HOSTNAME.test(name)) {
          throw new RangeError(`not a DNS host name: ${JSON.stringify(name)}`);
        }
      }
      for (const ip of ipAddresses) {
        if (isIP(ip) === 0) {
          throw new RangeError(`not an IP address: ${JSON.stringify(ip)}`);
        }
      }
      const { notBefore, notAfter } = validity(opts.now ?? new Date(), opts.validityDays * DAY_MS);
      const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
      // Rare (start-up) and address parsing is fiddly: the library writes the SAN.
      const subjectAltName = new x509.SubjectAlternativeNameExtension([
        ...hostnames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]);
      const issued = await issue({
        // Clients match on the SAN; the CN is only a label for people reading the certificate.
        subjectDer: encodeCommonNameSubject(hostnames[0] ?? ipAddresses[0]),
        spkiDer: publicKey.export({ type: 'spki', format: 'der' }),
        notBefore,
        notAfter,
        keyUsage: 'digitalSignature',
        extendedKeyUsage: 'serverAuth',
        more: [Buffer.from(subjectAltName.rawData)],
      });
      return { ...issued, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    },

    inspectPresentedCertificate(der) {
      let parts: CertificateParts;
      try {
        parts = readCertificateParts(der);
      } catch (err) {
        const why = err instanceof DerError ? err.message : 'not a DER X.509 certificate';
        throw new PkiError('CERTIFICATE_INVALID', `the presented certificate is unreadable: ${why}`);
      }
      // Straight from the DER to one native verify: this runs on every agent connection.
      const chainsToCa =
        !caDer.equals(der) &&
        parts.issuerDer.equals(caParts.subjectDer) &&
        parts.signatureAlgorithmDer.equals(signing.algorithmIdentifier) &&
        signing.verify(parts.tbsDer, parts.signature);
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
    },

    async createCrl(opts) {
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
        signatureAlgorithm: signing.algorithmIdentifier,
        issuerDer: caParts.subjectDer,
        authorityKeyId: caKeyId,
        crlNumber: BigInt(opts.crlNumber),
        thisUpdate: opts.thisUpdate,
        nextUpdate: opts.nextUpdate,
        entries,
      });
      const crl = encodeSignedCertificate(tbs, signing.algorithmIdentifier, await signing.sign(tbs));
      return encodePem(crl, 'X509 CRL');
    },
  };
}

async function importSigningKey(privateKey: KeyObject, caPublicKey: KeyObject): Promise<SigningKey> {
  if (privateKey?.type !== 'private') {
    throw new PkiError('CA_KEY_MISMATCH', 'the CA private key is not a private key');
  }
  const fromPrivate = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!fromPrivate.equals(caPublicKey.export({ type: 'spki', format: 'der' }))) {
    throw new PkiError('CA_KEY_MISMATCH', 'the CA private key does not belong to the CA certificate');
  }
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (type === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')) {
    const namedCurve = curve === 'prime256v1' ? 'P-256' : 'P-384';
    const hash = curve === 'prime256v1' ? 'SHA-256' : 'SHA-384';
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
    const algorithm = { name: 'ECDSA', hash };
    return {
      key,
      // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) or ecdsa-with-SHA384 (.3), parameters absent.
      algorithmIdentifier: Buffer.from(hash === 'SHA-256' ? '300a06082a8648ce3d040302' : '300a06082a8648ce3d040303', 'hex'),
      sign: async (data) => ecdsaSignatureToDer(new Uint8Array(await webcrypto.subtle.sign(algorithm, key, data))),
      verify: (data, signature) => safeVerify(hash === 'SHA-256' ? 'sha256' : 'sha384', data, caPublicKey, signature),
    };
  }
  if (type === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return {
      key,
      // sha256WithRSAEncryption (1.2.840.113549.1.1.11), NULL parameters.
      algorithmIdentifier: Buffer.from('300d06092a864886f70d01010b0500', 'hex'),
      sign: async (data) => Buffer.from(await webcrypto.subtle.sign(algorithm, key, data)),
      verify: (data, signature) => safeVerify('sha256', data, caPublicKey, signature),
    };
  }
  throw new PkiError('CA_KEY_UNSUPPORTED', `a CA key of type ${type}${curve ? ` (${curve})` : ''} cannot sign here; use EC P-256, EC P-384 or RSA`);
}

function safeVerify(digest: string, data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  try {
    return verify(digest, data, key, signature);
  } catch {
    return false; // a malformed ECDSA signature throws instead of failing
  }
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

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
