// A minimal DER reader: just enough to take certificates and CSRs apart by their exact bytes (names compared
// byte for byte, the signed part kept as sent), which the ASN.1 object libraries re-encode or hide.

/** DerNode is one TLV inside a buffer: its tag and where its header and contents sit. */
export interface DerNode {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** DerError says why bytes are not the DER structure expected; callers turn it into their own PkiError code. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/** TAG holds the DER tags certfleet reads and writes. */
export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0: 0xa0,
  CONTEXT_1: 0xa1,
  CONTEXT_2: 0xa2,
  CONTEXT_3: 0xa3,
} as const;

/** readNode reads the TLV at offset, refusing indefinite lengths and any length that runs past limit. */
export function readNode(buf: Uint8Array, offset: number, limit = buf.length): DerNode {
  if (offset + 2 > limit) {
    throw new DerError(`truncated: a DER element at byte ${offset} has no room for its header`);
  }
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) {
    throw new DerError(`unsupported multi-byte DER tag at byte ${offset}`);
  }
  let lengthByte = buf[offset + 1];
  let contentStart = offset + 2;
  let length: number;
  if (lengthByte < 0x80) {
    length = lengthByte;
  } else if (lengthByte === 0x80) {
    throw new DerError(`indefinite length at byte ${offset}: BER, not DER`);
  } else {
    const count = lengthByte & 0x7f;
    // Four length octets already allow 4 GiB; nothing we read comes near.
    if (count > 4 || contentStart + count > limit) {
      throw new DerError(`truncated or oversized DER length at byte ${offset}`);
    }
    length = 0;
    for (let i = 0; i < count; i++) {
      lengthByte = buf[contentStart + i];
      length = length * 256 + lengthByte;
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) {
    throw new DerError(`truncated: a DER element at byte ${offset} declares ${length} bytes, only ${limit - contentStart} follow`);
  }
  return { tag, start: offset, contentStart, end };
}

/** readRoot reads the single top-level element of buf, which must be a SEQUENCE filling buf exactly. */
export function readRoot(buf: Uint8Array): DerNode {
  if (buf.length === 0) {
    throw new DerError('empty: no DER bytes');
  }
  const root = readNode(buf, 0);
  if (root.tag !== TAG.SEQUENCE) {
    throw new DerError('not a DER SEQUENCE');
  }
  if (root.end !== buf.length) {
    throw new DerError(`${buf.length - root.end} unexpected bytes after the DER structure`);
  }
  return root;
}

/** childrenOf lists the elements inside a constructed node, which must fill it exactly. */
export function childrenOf(buf: Uint8Array, node: DerNode): DerNode[] {
  const children: DerNode[] = [];
  let offset = node.contentStart;
  while (offset < node.end) {
    const child = readNode(buf, offset, node.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** expectTag returns node if it carries tag, else throws a DerError naming what was expected. */
export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag) {
    throw new DerError(`malformed: expected ${what}`);
  }
  return node;
}

/** rawOf is the whole encoding of node (header included), sharing memory with buf. */
export function rawOf(buf: Uint8Array, node: DerNode): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + node.start, node.end - node.start);
}

/** contentOf is the contents of node (header excluded), sharing memory with buf. */
export function contentOf(buf: Uint8Array, node: DerNode): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + node.contentStart, node.end - node.contentStart);
}

/** readTime decodes a UTCTime or GeneralizedTime in the Zulu forms RFC 5280 allows. */
export function readTime(buf: Uint8Array, node: DerNode): Date {
  const text = contentOf(buf, node).toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (node.tag === TAG.UTC_TIME && (match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    // RFC 5280 4.1.2.5.1: two-digit years 50-99 are 19xx, 00-49 are 20xx.
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === TAG.GENERALIZED_TIME && (match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    year = Number(match[1]);
  } else {
    throw new DerError('malformed: a validity time is not a UTCTime or GeneralizedTime in Zulu form');
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number);
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(time);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new DerError('malformed: a validity time names a date that does not exist');
  }
  return date;
}

/** encodeUnsignedInteger is the DER INTEGER for a non-negative integer (a CRL number, say). */
export function encodeUnsignedInteger(value: bigint): Buffer {
  if (value < 0n) {
    throw new RangeError('encodeUnsignedInteger takes a non-negative integer');
  }
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let content = Buffer.from(hex, 'hex');
  // A set top bit would read as negative: DER adds one zero octet.
  if (content[0] & 0x80) content = Buffer.concat([Buffer.from([0]), content]);
  return Buffer.concat([encodeLength(TAG.INTEGER, content.length), content]);
}

function encodeLength(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

/** encodeTlv wraps contents in a DER header with the given tag. */
export function encodeTlv(tag: number, ...contents: Uint8Array[]): Buffer {
  return encodeTlvList(tag, contents);
}

/** encodeTlvList is encodeTlv for long lists (a CRL's entries), which must not be spread into arguments. */
export function encodeTlvList(tag: number, contents: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const part of contents) length += part.length;
  const header = encodeLength(tag, length);
  return Buffer.concat([header, ...contents], header.length + length);
}

/** encodeTime is a validity or CRL time as RFC 5280 wants it: UTCTime through 2049, GeneralizedTime after, whole seconds. */
export function encodeTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) {
    throw new RangeError(`a time must be a valid date in years 0-9999, got ${String(date)}`);
  }
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  const utc = year >= 1950 && year < 2050;
  const text = utc ? `${two(year % 100)}${rest}` : `${String(year).padStart(4, '0')}${rest}`;
  // Called once per CRL entry: one allocation, not three.
  const out = Buffer.allocUnsafe(2 + text.length);
  out[0] = utc ? TAG.UTC_TIME : TAG.GENERALIZED_TIME;
  out[1] = text.length;
  out.write(text, 2, 'latin1');
  return out;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** decodeOid turns OBJECT IDENTIFIER contents into dotted form. */
export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DerError('malformed: an empty OID');
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError('malformed: an OID arc is too large');
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  if (bytes[bytes.length - 1] & 0x80) throw new DerError('malformed: a truncated OID');
  const first = arcs[0] < 40 ? 0 : arcs[0] < 80 ? 1 : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}
