export { PkiError, type PkiErrorCode } from './errors.js';
export {
  createCertificateAuthority,
  describeCertificate,
  checkKeyMatchesCertificate,
  type CreatedAuthority,
  type CertificateSummary,
} from './ca.js';
export {
  loadKeyProtector,
  keyFileName,
  DEFAULT_SEAL_PURPOSE,
  type KeyProtector,
  type KeyProtectorOptions,
} from './key-protection.js';
export { parseCertificateRequest, type ParsedCsr } from './csr.js';
export { publicKeyFingerprint, type KeyAlgorithm } from './key-policy.js';
export { normalizeSerialNumber } from './serial-number.js';
export { encodePem, decodePem, decodePemBlocks, decodeSinglePem, MAX_PEM_LENGTH, type PemBlock, type PemReadOptions } from './pem.js';
export {
  createCaSigner,
  type CaSigner,
  type ClientCertificateRequest,
  type IssuedCertificate,
  type ServerCertificateRequest,
  type ServerCertificate,
  type PresentedCertificate,
  type CrlOptions,
  type CrlEntry,
  encodeCrlEntry,
} from './signer.js';
export { encryptForCertificate } from './jwe.js';
