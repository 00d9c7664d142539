export { PkiError, type PkiErrorCode } from './errors.js';
export {
  createCertificateAuthority,
  describeCertificate,
  checkKeyMatchesCertificate,
  type CreatedAuthority,
  type CertificateSummary,
} from './ca.js';
export { loadKeyProtector, keyFileName, type KeyProtector, type KeyProtectorOptions } from './key-protection.js';
