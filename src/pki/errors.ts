/** PkiErrorCode names each failure a caller may need to tell apart (start-up hints, API codes). */
export type PkiErrorCode =
  | 'CERTIFICATE_INVALID'
  | 'CSR_INVALID'
  | 'PEM_INVALID'
  | 'CA_KEY_MISMATCH'
  | 'CA_KEY_UNREADABLE'
  | 'CA_KEY_UNSUPPORTED'
  | 'CA_EXPIRED'
  | 'KEY_FILE_INSECURE'
  | 'KEY_FILE_INVALID'
  | 'SECRET_UNREADABLE';

/** PkiError carries a typed code so services can translate it into their own error model in one place. */
export class PkiError extends Error {
  override readonly name = 'PkiError';

  constructor(
    readonly code: PkiErrorCode,
    message: string,
  ) {
    super(message);
  }
}
