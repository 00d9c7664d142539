// The CA's signing verbs, composed over one loaded CA: the certificate is read and the key imported once,
// at start-up, and each verb (signer/issue.ts, signer/inspect.ts, signer/crl.ts) receives the result.
import { createCrl, type CrlOptions } from './signer/crl.js';
import { inspectPresentedCertificate, type InspectOptions, type PresentedCertificate } from './signer/inspect.js';
import {
  issueClientCertificate,
  issueServerCertificate,
  type ClientCertificateRequest,
  type IssuedCertificate,
  type ServerCertificate,
  type ServerCertificateRequest,
} from './signer/issue.js';
import { loadCa, type CaKeyPair } from './signer/loaded-ca.js';

export type { CrlEntry, CrlOptions } from './signer/crl.js';
export { encodeCrlEntry } from './signer/crl.js';
export type { InspectOptions, PresentedCertificate } from './signer/inspect.js';
export type { ClientCertificateRequest, IssuedCertificate, ServerCertificate, ServerCertificateRequest } from './signer/issue.js';

/** CaSigner signs with the CA key, imported once into WebCrypto so each signature is a native call. */
export interface CaSigner {
  /** The CA certificate, PEM. */
  readonly certificatePem: string;
  /** The CA subject DN, as text. */
  readonly subject: string;
  issueClientCertificate(req: ClientCertificateRequest): Promise<IssuedCertificate>;
  issueServerCertificate(opts: ServerCertificateRequest): Promise<ServerCertificate>;
  inspectPresentedCertificate(der: Buffer, opts?: InspectOptions): PresentedCertificate;
  createCrl(opts: CrlOptions): Promise<string>;
}

/** createCaSigner checks that the key belongs to the CA certificate and imports it once for signing (EC P-256/P-384 with ECDSA, or RSA with PKCS#1 v1.5 SHA-256). */
export async function createCaSigner(pair: CaKeyPair): Promise<CaSigner> {
  const ca = await loadCa(pair);
  return {
    certificatePem: ca.certificatePem,
    subject: ca.subject,
    issueClientCertificate: (req) => issueClientCertificate(ca, req),
    issueServerCertificate: (opts) => issueServerCertificate(ca, opts),
    inspectPresentedCertificate: (der, opts) => inspectPresentedCertificate(ca, der, opts),
    createCrl: (opts) => createCrl(ca, opts),
  };
}
