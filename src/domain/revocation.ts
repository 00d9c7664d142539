/**
 * REVOCATION_REASONS are why a certificate was revoked: the subset of RFC 5280's CRLReason this
 * core offers. UNSPECIFIED is written on the CRL without a reason code, as RFC 5280 asks; the
 * codes themselves are the pki's business (src/pki/signer/crl.ts).
 */
export const REVOCATION_REASONS = ['UNSPECIFIED', 'KEY_COMPROMISE', 'SUPERSEDED', 'CESSATION_OF_OPERATION'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];
