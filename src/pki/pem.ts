/** MAX_PEM_LENGTH bounds what we parse at all: an RSA-4096 CSR is under 2 KiB, a certificate a little more. */
export const MAX_PEM_LENGTH = 32 * 1024;

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/**
 * decodeSinglePem insists on exactly one PEM block of one of the given labels, with nothing but whitespace
 * around it, and a strictly base64 body; it returns the DER or a reason fit to show the sender.
 */
export function decodeSinglePem(text: unknown, labels: readonly string[]): { der: Buffer; label: string } | { reason: string } {
  const expected = labels[0];
  if (typeof text !== 'string' || text.trim() === '') {
    return { reason: `empty: expected a PEM ${expected}` };
  }
  if (text.length > MAX_PEM_LENGTH) {
    return { reason: `too large: ${text.length} characters, at most ${MAX_PEM_LENGTH}` };
  }
  const normalised = text.replace(/\r\n?/g, '\n');
  const begins = [...normalised.matchAll(BEGIN)];
  if (begins.length === 0) {
    return { reason: `not PEM: no "-----BEGIN ${expected}-----" line` };
  }
  if (begins.length > 1) {
    return { reason: `${begins.length} PEM blocks; send exactly one ${expected}` };
  }
  const begin = begins[0];
  const label = begin[1];
  if (!labels.includes(label)) {
    return { reason: `a PEM block of type "${label}", expected ${expected}` };
  }
  const endLine = `-----END ${label}-----`;
  const bodyStart = (begin.index ?? 0) + begin[0].length;
  const endIndex = normalised.indexOf(endLine, bodyStart);
  if (endIndex < 0) {
    return { reason: `truncated: no "${endLine}" line` };
  }
  if (normalised.slice(0, begin.index).trim() !== '' || normalised.slice(endIndex + endLine.length).trim() !== '') {
    return { reason: 'text outside the PEM block' };
  }
  const body = normalised.slice(bodyStart, endIndex);
  if (body.includes(':')) {
    return { reason: 'PEM headers (such as an encryption header) are not accepted' };
  }
  const base64 = body.replace(/[ \t\n]/g, '');
  if (base64 === '') {
    return { reason: 'empty PEM body' };
  }
  // Buffer's decoder skips characters it does not know, so check the alphabet and padding first.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    return { reason: 'the PEM body is not valid base64 (bad characters, or a cut-off line)' };
  }
  const der = Buffer.from(base64, 'base64');
  if (der.toString('base64') !== base64) {
    return { reason: 'the PEM body is not canonical base64' };
  }
  return { der, label };
}

/** encodePem writes DER as PEM the way @peculiar/x509 does for the CA certificate (64-column lines, LF, no trailing newline). */
export function encodePem(der: Uint8Array, label: string): string {
  // Buffer's encoder, not the library's (btoa over a binary string): a CRL can run to megabytes.
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  lines.push(`-----END ${label}-----`);
  return lines.join('\n');
}
