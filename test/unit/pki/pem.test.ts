import { describe, expect, it } from 'vitest';
import { decodePem, decodePemBlocks, decodeSinglePem, encodePem, MAX_PEM_LENGTH } from '../../../src/pki/pem.js';
import { expectPkiError } from './helpers.js';

// Any bytes do: PEM does not look inside the DER. 100 bytes are 136 base64 digits: lines of 64, 64 and 8.
const der = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
const other = Buffer.from('a second block');
const cert = encodePem(der, 'CERTIFICATE');
const crl = encodePem(other, 'X509 CRL');

describe('encodePem', () => {
  it('writes 64-column lines between BEGIN and END, LF, no trailing newline', () => {
    const lines = cert.split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-1)).toBe('-----END CERTIFICATE-----');
    expect(lines.slice(1, -1).map((l) => l.length)).toEqual([64, 64, 8]);
  });

  it('takes an ArrayBuffer or a view into a larger buffer alike', () => {
    const padded = Buffer.concat([Buffer.from('xx'), der, Buffer.from('yy')]).subarray(2, 2 + der.length);
    expect(encodePem(padded, 'CERTIFICATE')).toBe(cert);
    expect(encodePem(new Uint8Array(der).buffer, 'CERTIFICATE')).toBe(cert);
  });
});

describe('decodePem', () => {
  it('round-trips encodePem, with CRLF and surrounding blanks', () => {
    expect(decodePem(cert, 'CERTIFICATE')).toEqual(der);
    expect(decodePem(`\r\n ${cert.replaceAll('\n', '\r\n')}\n\n`, 'CERTIFICATE')).toEqual(der);
  });

  it.each<[string, () => string, RegExp]>([
    ['another label', () => crl, /^not one PEM CERTIFICATE: a PEM block of type "X509 CRL", expected CERTIFICATE$/],
    ['two blocks', () => `${cert}\n${cert}`, /2 PEM blocks; send exactly one CERTIFICATE$/],
    ['no PEM at all', () => der.toString('base64'), /not PEM: no "-----BEGIN CERTIFICATE-----" line$/],
    ['a bad body', () => cert.replace(/\n[A-Za-z0-9+/]{4}/, '\n!!!!'), /not valid base64/],
  ])('throws PEM_INVALID naming the fault: %s', async (_what, makeText, reason) => {
    const err = await expectPkiError(() => decodePem(makeText(), 'CERTIFICATE'), 'PEM_INVALID');
    expect(err.message).toMatch(reason);
  });

  it('holds to MAX_PEM_LENGTH unless given a larger bound', async () => {
    const big = encodePem(Buffer.alloc(MAX_PEM_LENGTH), 'X509 CRL');
    await expectPkiError(() => decodePem(big, 'X509 CRL'), 'PEM_INVALID');
    expect(decodePem(big, 'X509 CRL', { maxLength: 2 * MAX_PEM_LENGTH })).toEqual(Buffer.alloc(MAX_PEM_LENGTH));
  });
});

describe('decodePemBlocks', () => {
  it('reads every block in order, with its label', () => {
    expect(decodePemBlocks(`${cert}\n\n${crl}\n`, ['CERTIFICATE', 'X509 CRL'])).toEqual([
      { label: 'CERTIFICATE', der },
      { label: 'X509 CRL', der: other },
    ]);
    expect(decodePemBlocks(cert, ['CERTIFICATE'])).toEqual([{ label: 'CERTIFICATE', der }]);
  });

  it.each<[string, () => string, RegExp]>([
    ['text between blocks', () => `${cert}\nsigned, me\n${cert}`, /text outside the PEM block$/],
    ['a label not asked for', () => `${cert}\n${crl}`, /block 2: a PEM block of type "X509 CRL", expected CERTIFICATE$/],
    ['a first block without its END line', () => `${cert.split('\n').slice(0, -1).join('\n')}\n${cert}`, /block 1: truncated/],
    ['a bad body in the second block', () => `${cert}\n${cert.replace(/\n[A-Za-z0-9+/]{4}/, '\n!!!!')}`, /block 2: the PEM body is not valid base64/],
  ])('throws PEM_INVALID naming the block: %s', async (_what, makeText, reason) => {
    const err = await expectPkiError(() => decodePemBlocks(makeText(), ['CERTIFICATE']), 'PEM_INVALID');
    expect(err.message).toMatch(reason);
  });
});

describe('decodeSinglePem', () => {
  it('returns a reason rather than throwing, for answers to senders', () => {
    expect(decodeSinglePem(cert, ['CERTIFICATE'])).toEqual({ der, label: 'CERTIFICATE' });
    expect(decodeSinglePem(`${cert}\n${cert}`, ['CERTIFICATE'])).toEqual({ reason: '2 PEM blocks; send exactly one CERTIFICATE' });
  });
});
