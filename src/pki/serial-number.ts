import { randomBytes } from 'node:crypto';

/**
 * randomSerialNumber returns 16 random octets as 32 lower-case hex digits: the top bit is cleared so the DER
 * INTEGER is positive without a padding octet, and the first octet is non-zero so it needs no trimming either;
 * the form issued is therefore already canonical. RFC 5280 allows up to 20 octets, and unpredictable serials
 * defeat chosen-prefix collisions.
 */
export function randomSerialNumber(): string {
  for (;;) {
    const bytes = randomBytes(16);
    bytes[0] &= 0x7f;
    if (bytes[0] !== 0) {
      return bytes.toString('hex');
    }
  }
}

/**
 * normalizeSerialNumber is the canonical serial form used across certfleet: lower-case hex, whole octets, no
 * leading zero octets (so no DER sign padding); colons, spaces and a 0x prefix are dropped. Anything that is not
 * hex is a RangeError.
 */
export function normalizeSerialNumber(serial: string): string {
  // Fast path for what certfleet stores: already canonical.
  if (WHOLE_OCTETS.test(serial) && (serial.length === 2 || !serial.startsWith('00'))) return serial;
  let hex = serial.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]+$/.test(hex)) {
    throw new RangeError(`a serial number is hex digits, got ${JSON.stringify(serial.slice(0, 80))}`);
  }
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return canonicalSerialFromOctets(Buffer.from(hex, 'hex'));
}

const WHOLE_OCTETS = /^(?:[0-9a-f]{2})+$/;

/** canonicalSerialFromOctets turns the contents of a DER INTEGER into the canonical serial form. */
export function canonicalSerialFromOctets(octets: Uint8Array): string {
  let first = 0;
  while (first < octets.length - 1 && octets[first] === 0) first++;
  return Buffer.from(octets.subarray(first)).toString('hex') || '00';
}
