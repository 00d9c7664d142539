import { X509Crl } from '@peculiar/x509';

/** crlSerials lists the serial numbers (lower-case hex, canonical) a PEM CRL names, and its CRL number. */
export function crlContents(pem: string): { crlNumber: number; serials: Set<string> } {
  const crl = new X509Crl(pem);
  const ext = crl.extensions.find((e) => e.type === '2.5.29.20');
  // The CRL number extension's value is a DER INTEGER: tag, length, big-endian octets.
  const value = ext ? Buffer.from(ext.value) : Buffer.alloc(0);
  const crlNumber = value.length > 2 ? Number(BigInt(`0x${value.subarray(2).toString('hex')}`)) : NaN;
  return { crlNumber, serials: new Set(crl.entries.map((e) => e.serialNumber.toLowerCase().replace(/^(00)+/, ''))) };
}

/**
 * crlNaming reads the CRL (as the gateway serves it) until it names every serial, and returns it:
 * the CRL follows a revocation within its window, not in the revoking transaction. Fails after
 * timeoutMs (a bound for a stuck signer, not a speed assertion).
 */
export async function crlNaming(read: () => Promise<string>, serials: string[], timeoutMs = 15_000): Promise<string> {
  const wanted = serials.map((s) => s.toLowerCase().replace(/^(00)+/, ''));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pem = await read();
    const { serials: named } = crlContents(pem);
    if (wanted.every((s) => named.has(s))) return pem;
    if (Date.now() > deadline) throw new Error(`the CRL did not name ${wanted.filter((s) => !named.has(s)).join(', ')} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
