import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readCommonNames } from '../../../src/pki/certificate-der.js';
import { encodeCommonNameSubject, endEntityExtensions } from '../../../src/pki/certificate-encoding.js';
import { DerError, decodeOid, encodeTime, encodeUnsignedInteger, readNode, readRoot, readTime } from '../../../src/pki/der.js';
import { normalizeSerialNumber } from '../../../src/pki/index.js';
import { x509 } from '../../../src/pki/x509-provider.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('encodeTime and readTime', () => {
  it.each([
    ['UTCTime through 2049', '2049-12-31T23:59:59.999Z', '170d3439313233313233353935395a'],
    ['GeneralizedTime from 2050', '2050-01-01T00:00:00Z', '180f32303530303130313030303030305a'],
    ['UTCTime from 1950', '1950-01-01T00:00:00Z', '170d3530303130313030303030305a'],
    ['GeneralizedTime before 1950', '1949-12-31T23:59:59Z', '180f31393439313233313233353935395a'],
  ])('writes %s (whole seconds) and reads it back', (_what, iso, der) => {
    const encoded = encodeTime(new Date(iso));
    expect(hex(encoded)).toBe(der);
    expect(readTime(encoded, readNode(encoded, 0)).getTime()).toBe(Math.floor(Date.parse(iso) / 1000) * 1000);
  });

  it.each([
    ['a date that does not exist', '170d3234303233303132303030305a'], // 240230120000Z
    ['fractional seconds', '1811' + Buffer.from('20240101000000.5Z').toString('hex')],
    ['a local time without Z', '170c' + Buffer.from('240101000000').toString('hex')],
    ['another tag', '040d' + Buffer.from('240101000000Z').toString('hex')],
  ])('refuses %s', (_what, der) => {
    const bytes = Buffer.from(der, 'hex');
    expect(() => readTime(bytes, readNode(bytes, 0))).toThrow(DerError);
  });

  it('refuses an invalid Date', () => {
    expect(() => encodeTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('readNode and readRoot', () => {
  it.each([
    ['an indefinite length (BER)', '3080020100 0000'],
    ['a length running past the end', '300502010'],
    ['a five-octet length', '3085ffffffffff'],
    ['a header cut short', '30'],
    ['bytes after the root', '3003020100 00'],
    ['a root that is not a SEQUENCE', '020100'],
    ['nothing', ''],
  ])('refuses %s', (_what, der) => {
    expect(() => readRoot(Buffer.from(der.replaceAll(' ', ''), 'hex'))).toThrow(DerError);
  });
});

describe('decodeOid and encodeUnsignedInteger', () => {
  it.each([
    ['2a864886f70d010101', '1.2.840.113549.1.1.1'],
    ['551d25', '2.5.29.37'],
    ['2b81040022', '1.3.132.0.34'],
    ['883703', '2.999.3'],
  ])('reads %s as %s', (der, dotted) => {
    expect(decodeOid(Buffer.from(der, 'hex'))).toBe(dotted);
  });

  it.each([
    [0n, '020100'],
    [127n, '02017f'],
    [128n, '02020080'],
    [256n, '02020100'],
    [2n ** 40n, '02060100000000' + '00'],
  ])('writes %s as the minimal positive INTEGER %s', (value, der) => {
    expect(hex(encodeUnsignedInteger(value))).toBe(der);
  });
});

describe('normalizeSerialNumber', () => {
  it.each([
    ['7f01', '7f01'],
    ['AB', 'ab'],
    ['0x0A', '0a'],
    ['a', '0a'],
    ['00ab', 'ab'],
    ['0080', '80'],
    ['00:8F:01', '8f01'],
    ['0', '00'],
    ['0000', '00'],
  ])('turns %s into %s', (input, canonical) => {
    expect(normalizeSerialNumber(input)).toBe(canonical);
  });

  it.each(['', 'xyz', '12-34', '0x'])('refuses %j with a RangeError', (input) => {
    expect(() => normalizeSerialNumber(input)).toThrow(RangeError);
  });
});

describe('the certificate encoder writes what @peculiar/x509 writes', () => {
  const keyId = createHash('sha1').update('key').digest();
  const caKeyId = createHash('sha1').update('ca').digest();
  const ours = (keyUsage: 'digitalSignature' | 'digitalSignature+keyEncipherment', extendedKeyUsage: 'clientAuth' | 'serverAuth') =>
    endEntityExtensions({ keyUsage, extendedKeyUsage, subjectKeyId: keyId, authorityKeyId: caKeyId }).map(hex);
  const theirs = (usages: x509.KeyUsageFlags, purpose: string) =>
    [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension([purpose]),
      new x509.SubjectKeyIdentifierExtension(hex(keyId)),
      new x509.AuthorityKeyIdentifierExtension(hex(caKeyId)),
    ].map((extension) => hex(new Uint8Array(extension.rawData)));

  it.each([
    ['an EC client certificate', ours('digitalSignature', 'clientAuth'), theirs(x509.KeyUsageFlags.digitalSignature, x509.ExtendedKeyUsage.clientAuth)],
    ['an RSA client certificate', ours('digitalSignature+keyEncipherment', 'clientAuth'), theirs(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, x509.ExtendedKeyUsage.clientAuth)],
    ['a server certificate', ours('digitalSignature', 'serverAuth'), theirs(x509.KeyUsageFlags.digitalSignature, x509.ExtendedKeyUsage.serverAuth)],
  ])('the extensions of %s', (_what, mine, library) => {
    expect(mine).toEqual(library);
  });

  it.each(['agent-1', 'kern-büro-7', '{8ee13e53-2c1c-42bb-8df7-39927c0bdbb6}'])('the subject CN=%s as a UTF8String, and reads it back', (commonName) => {
    const subject = encodeCommonNameSubject(commonName);
    expect(hex(subject)).toBe(hex(new Uint8Array(new x509.Name([{ CN: [{ utf8String: commonName }] }]).toArrayBuffer())));
    expect(readCommonNames(subject)).toEqual([commonName]);
  });

  it.each([
    ['PrintableString', [{ CN: [{ printableString: 'agent-1' }] }], ['agent-1']],
    ['BMPString', [{ CN: [{ bmpString: 'agent-ü' }] }], ['agent-ü']],
    ['several RDNs, some not CN', [{ O: [{ utf8String: 'x' }] }, { CN: [{ utf8String: 'a' }] }, { CN: [{ utf8String: 'b' }] }], ['a', 'b']],
  ])('reads a CN written as %s', (_what, name, expected) => {
    expect(readCommonNames(Buffer.from(new x509.Name(name as x509.JsonNameParams).toArrayBuffer()))).toEqual(expected);
  });
});
