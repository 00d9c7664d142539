/**
 * CLOCK_SKEW_MS is how far back a certificate's notBefore is set from the moment it is signed, so
 * that a device whose clock runs a little behind the core's accepts it at once. The CA, client and
 * server certificates and the seeded fleet all use this one value.
 */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** DAY_MS is one day in milliseconds (validity periods and retention are counted in days). */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** HOUR_MS is one hour in milliseconds. */
export const HOUR_MS = 60 * 60 * 1000;

/** MINUTE_MS is one minute in milliseconds. */
export const MINUTE_MS = 60 * 1000;
