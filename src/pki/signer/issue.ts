import { createHash, generateKeyPair } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { CLOCK_SKEW_MS, DAY_MS } from '../../domain/time.js';
import { subjectKeyBits } from '../certificate-der.js';
import {
  encodeCommonNameSubject,
  encodeSignedCertificate,
  encodeTbsCertificate,
  endEntityExtensions,
  type KeyUsageBits,
} from '../certificate-encoding.js';
import { commonNameProblem } from '../csr.js';
import { PkiError } from '../errors.js';
import { checkPublicKey } from '../key-policy.js';
import { encodePem } from '../pem.js';
import { randomSerialNumber } from '../serial-number.js';
import { x509 } from '../x509-provider.js';
import type { LoadedCa } from './loaded-ca.js';

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

const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

const generateKeyPairAsync = promisify(generateKeyPair);

/** issueClientCertificate signs a clientAuth certificate for an agent id and the key its request proved, after the key policy. */
export async function issueClientCertificate(ca: LoadedCa, req: ClientCertificateRequest): Promise<IssuedCertificate> {
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
  const { notBefore, notAfter } = validity(ca, req.now ?? new Date(), lifetimeMs);
  return issue(ca, {
    subjectDer: encodeCommonNameSubject(req.subjectCommonName),
    spkiDer: key.spki,
    notBefore,
    notAfter,
    // RSA keys may also be used for RSA key transport (TLS 1.2 RSA key exchange, some Windows stacks).
    keyUsage: key.kind === 'rsa' ? 'digitalSignature+keyEncipherment' : 'digitalSignature',
    extendedKeyUsage: 'clientAuth',
  });
}

/** issueServerCertificate makes a fresh P-256 key and signs a serverAuth certificate naming the given hosts and addresses. */
export async function issueServerCertificate(ca: LoadedCa, opts: ServerCertificateRequest): Promise<ServerCertificate> {
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
  const { notBefore, notAfter } = validity(ca, opts.now ?? new Date(), opts.validityDays * DAY_MS);
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  // Rare (start-up) and address parsing is fiddly: the library writes the SAN.
  const subjectAltName = new x509.SubjectAlternativeNameExtension([
    ...hostnames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ]);
  const issued = issue(ca, {
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
}

// Never issue past the CA's own end: a chain is only as valid as its shortest link.
function validity(ca: LoadedCa, now: Date, lifetimeMs: number): { notBefore: Date; notAfter: Date } {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new RangeError('now must be a valid Date');
  }
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
    throw new RangeError('the validity must be a positive, finite duration');
  }
  const notBefore = wholeSeconds(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = wholeSeconds(Math.min(now.getTime() + lifetimeMs, ca.parts.notAfter.getTime()));
  if (notAfter.getTime() <= now.getTime()) {
    throw new PkiError('CA_EXPIRED', `the CA certificate expired on ${ca.parts.notAfter.toISOString()}; it cannot issue`);
  }
  return { notBefore, notAfter };
}

// Synchronous from here: the signature is a plain node:crypto call (see SigningKey).
function issue(
  ca: LoadedCa,
  opts: {
    subjectDer: Buffer;
    spkiDer: Buffer;
    notBefore: Date;
    notAfter: Date;
    keyUsage: KeyUsageBits;
    extendedKeyUsage: 'clientAuth' | 'serverAuth';
    more?: Buffer[];
  },
): IssuedCertificate {
  const serialNumber = randomSerialNumber();
  const [basicConstraints, keyUsage, extendedKeyUsage, ...identifiers] = endEntityExtensions({
    keyUsage: opts.keyUsage,
    extendedKeyUsage: opts.extendedKeyUsage,
    subjectKeyId: createHash('sha1').update(subjectKeyBits(opts.spkiDer)).digest(),
    authorityKeyId: ca.keyId,
  });
  const tbs = encodeTbsCertificate({
    serialNumber,
    signatureAlgorithm: ca.signing.algorithmIdentifier,
    issuerDer: ca.parts.subjectDer,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    subjectDer: opts.subjectDer,
    spkiDer: opts.spkiDer,
    extensions: [basicConstraints, keyUsage, extendedKeyUsage, ...(opts.more ?? []), ...identifiers],
  });
  const certificate = encodeSignedCertificate(tbs, ca.signing.algorithmIdentifier, ca.signing.sign(tbs));
  return {
    certificatePem: encodePem(certificate, 'CERTIFICATE'),
    serialNumber,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
  };
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
