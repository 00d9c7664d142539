// The one PEM codec of certfleet: CSRs and certificates from senders, the CA's own certificate, what
// we issue and what the seed and gateway re-encode all go through here, so every PEM is read by one rule.
import { PkiError } from './errors.js';

/** MAX_PEM_LENGTH bounds what we parse at all: an RSA-4096 CSR is under 2 KiB, a certificate a little more. */
export const MAX_PEM_LENGTH = 32 * 1024;

/** PemBlock is one decoded PEM block: its label (the word after BEGIN) and its DER. */
export interface PemBlock {
  label: string;
  der: Buffer;
}

/** PemReadOptions loosens the size bound for PEM we hold ourselves (a CRL can run to megabytes). */
export interface PemReadOptions {
  /** At most this many characters of text; MAX_PEM_LENGTH unless set. */
  maxLength?: number;
}

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/**
 * decodeSinglePem insists on exactly one PEM block of one of the given labels, with nothing but whitespace
 * around it, and a strictly base64 body; it returns the DER or a reason fit to show the sender.
 */
export function decodeSinglePem(text: unknown, labels: readonly string[]): PemBlock | { reason: string } {
  const read = readBlocks(text, labels, MAX_PEM_LENGTH, 'one');
  return 'reason' in read ? read : read[0];
}

/** decodePem reads exactly one PEM block of the given label, by decodeSinglePem's rules, and throws PEM_INVALID with the reason otherwise. */
export function decodePem(text: string, label: string, opts: PemReadOptions = {}): Buffer {
  const read = readBlocks(text, [label], opts.maxLength ?? MAX_PEM_LENGTH, 'one');
  if ('reason' in read) throw new PkiError('PEM_INVALID', `not one PEM ${label}: ${read.reason}`);
  return read[0].der;
}

/**
 * decodePemBlocks reads one or more PEM blocks (a bundle, a chain), each of one of the given labels and held to
 * decodeSinglePem's rules, with only whitespace between them; it throws PEM_INVALID naming the first fault.
 */
export function decodePemBlocks(text: string, labels: readonly string[], opts: PemReadOptions = {}): PemBlock[] {
  const read = readBlocks(text, labels, opts.maxLength ?? MAX_PEM_LENGTH, 'many');
  if ('reason' in read) throw new PkiError('PEM_INVALID', `not PEM ${labels[0]} blocks: ${read.reason}`);
  return read;
}

/** encodePem writes DER as PEM the way @peculiar/x509 does for the CA certificate (64-column lines, LF, no trailing newline). */
export function encodePem(der: Uint8Array | ArrayBuffer, label: string): string {
  const bytes = der instanceof ArrayBuffer ? Buffer.from(der) : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  // Buffer's encoder, not the library's (btoa over a binary string): a CRL can run to megabytes.
  const base64 = bytes.toString('base64');
  const lines: string[] = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  lines.push(`-----END ${label}-----`);
  return lines.join('\n');
}

// Checks run in a fixed order (count, label, END line, text outside, body) so a sender always hears of the
// same fault first; a fault in one of many blocks names the block.
function readBlocks(text: unknown, labels: readonly string[], maxLength: number, count: 'one' | 'many'): PemBlock[] | { reason: string } {
  const expected = labels[0];
  if (typeof text !== 'string' || text.trim() === '') {
    return { reason: `empty: expected a PEM ${expected}` };
  }
  if (text.length > maxLength) {
    return { reason: `too large: ${text.length} characters, at most ${maxLength}` };
  }
  const normalised = text.replace(/\r\n?/g, '\n');
  const begins = [...normalised.matchAll(BEGIN)];
  if (begins.length === 0) {
    return { reason: `not PEM: no "-----BEGIN ${expected}-----" line` };
  }
  if (count === 'one' && begins.length > 1) {
    return { reason: `${begins.length} PEM blocks; send exactly one ${expected}` };
  }
  const which = (i: number) => (begins.length > 1 ? `block ${i + 1}: ` : '');
  const located: { label: string; begin: number; bodyStart: number; bodyEnd: number; end: number }[] = [];
  for (const [i, begin] of begins.entries()) {
    const label = begin[1];
    if (!labels.includes(label)) {
      return { reason: `${which(i)}a PEM block of type "${label}", expected ${expected}` };
    }
    const endLine = `-----END ${label}-----`;
    const bodyStart = (begin.index ?? 0) + begin[0].length;
    const endIndex = normalised.indexOf(endLine, bodyStart);
    const nextBegin = begins[i + 1]?.index ?? Infinity;
    if (endIndex < 0 || endIndex > nextBegin) {
      return { reason: `${which(i)}truncated: no "${endLine}" line` };
    }
    located.push({ label, begin: begin.index ?? 0, bodyStart, bodyEnd: endIndex, end: endIndex + endLine.length });
  }
  const gaps = located.map((block, i) => normalised.slice(i === 0 ? 0 : located[i - 1].end, block.begin));
  gaps.push(normalised.slice(located[located.length - 1].end));
  if (gaps.some((gap) => gap.trim() !== '')) {
    return { reason: 'text outside the PEM block' };
  }
  const blocks: PemBlock[] = [];
  for (const [i, block] of located.entries()) {
    const der = decodeBody(normalised.slice(block.bodyStart, block.bodyEnd));
    if ('reason' in der) return { reason: `${which(i)}${der.reason}` };
    blocks.push({ der: der.der, label: block.label });
  }
  return blocks;
}

function decodeBody(body: string): { der: Buffer } | { reason: string } {
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
  return { der };
}
