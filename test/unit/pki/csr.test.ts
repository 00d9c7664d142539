import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificateRequest } from '../../../src/pki/index.js';
import { cn, derOf, expectPkiError, makeDeviceKey, type DeviceKey, type DeviceKeyKind } from './helpers.js';

const fixture = (name: string) => readFile(fileURLToPath(new URL(`../../fixtures/pki/${name}`, import.meta.url)), 'utf8');

describe('parseCertificateRequest accepts', () => {
  it.each([
    { file: 'ec-p256.csr', keyAlgorithm: 'EC-P256', commonName: 'agent-fixture-p256' },
    { file: 'rsa2048.csr', keyAlgorithm: 'RSA-2048', commonName: 'agent-fixture-rsa2048' },
  ])('the committed $file as $keyAlgorithm', async ({ file, keyAlgorithm, commonName }) => {
    const parsed = await parseCertificateRequest(await fixture(file));
    expect(parsed.keyAlgorithm).toBe(keyAlgorithm);
    expect(parsed.subjectCommonName).toBe(commonName);
  });

  describe.each<DeviceKeyKind>(['RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-P256', 'EC-P384'])('a node:crypto %s key', (kind) => {
    let key: DeviceKey;
    beforeAll(async () => {
      key = await makeDeviceKey(kind);
    });

    it('reporting its algorithm, the CN, and the SHA-256 of its SPKI', async () => {
      const parsed = await parseCertificateRequest(await key.csrPem(cn('agent-42')));
      expect(parsed).toMatchObject({ keyAlgorithm: kind, subjectCommonName: 'agent-42' });
      expect(parsed.publicKeySpki).toEqual(key.spki);
      expect(parsed.publicKeyFingerprint).toBe(createHash('sha256').update(key.spki).digest('hex'));
      expect(parsed.publicKeyFingerprint).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe('and reads', () => {
    let key: DeviceKey;
    let other: DeviceKey;
    let pem: string;
    beforeAll(async () => {
      [key, other] = await Promise.all([makeDeviceKey('EC-P256'), makeDeviceKey('EC-P256')]);
      pem = await key.csrPem(cn('agent-7'));
    });

    it('the same key in two requests as the same fingerprint, another key as another', async () => {
      const [first, second, third] = await Promise.all([
        parseCertificateRequest(pem),
        parseCertificateRequest(await key.csrPem(cn('agent-7'))),
        parseCertificateRequest(await other.csrPem(cn('agent-7'))),
      ]);
      expect(second.publicKeyFingerprint).toBe(first.publicKeyFingerprint);
      expect(third.publicKeyFingerprint).not.toBe(first.publicKeyFingerprint);
    });

    it('CRLF line ends, surrounding blank lines and Windows certreq\'s NEW CERTIFICATE REQUEST label, normalising the PEM', async () => {
      const windows = `\r\n\r\n${pem.replaceAll('CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST').replaceAll('\n', '\r\n')}\r\n\r\n`;
      const parsed = await parseCertificateRequest(windows);
      expect(parsed.csrPem).toBe(pem.trim());
      expect(parsed.csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE REQUEST-----$/);
    });

    it('a PEM body wrapped at another width as the same request', async () => {
      const body = derOf(pem).toString('base64').replace(/.{76}/g, '$&\n');
      const parsed = await parseCertificateRequest(`-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`);
      expect(parsed.csrPem).toBe(pem.trim());
    });

    it.each([
      ['128 ASCII characters', 'a'.repeat(128)],
      ['128 non-ASCII characters (counted as characters, not bytes)', 'ü'.repeat(128)],
      ['an id with dots, dashes and braces', '{8ee13e53-2c1c-42bb-8df7-39927c0bdbb6}.ws-0042'],
    ])('a CN of %s', async (_what, commonName) => {
      expect((await parseCertificateRequest(await key.csrPem(cn(commonName)))).subjectCommonName).toBe(commonName);
    });

    it('a CN beside other subject attributes', async () => {
      const parsed = await parseCertificateRequest(await key.csrPem([{ O: [{ utf8String: 'Contoso' }] }, ...cn('agent-9')]));
      expect(parsed.subjectCommonName).toBe('agent-9');
    });
  });

  it.each([
    ['an RSA-PSS signature', { pss: true }],
    ['an RSA signature over SHA-512', { hash: 'SHA-512' }],
  ])('a request proved with %s', async (_what, opts) => {
    const key = await makeDeviceKey('RSA-2048');
    expect((await parseCertificateRequest(await key.csrPem(cn('agent-pss'), opts))).keyAlgorithm).toBe('RSA-2048');
  });
});

describe('parseCertificateRequest refuses with CSR_INVALID and says why', () => {
  it.each([
    { file: 'badsig.csr', reason: /signature does not verify with the request's own public key/ },
    { file: 'wrong-key.csr', reason: /no proof of possession/ },
    { file: 'rsa1024.csr', reason: /^RSA key of 1024 bits is too small \(at least 2048\)$/ },
    { file: 'rsa4608.csr', reason: /^RSA key of 4608 bits is too large \(at most 4096\)$/ },
    { file: 'rsa-e3.csr', reason: /^RSA public exponent 3 is not accepted \(only 65537\)$/ },
    { file: 'sha1.csr', reason: /signed with SHA-1; SHA-256, SHA-384 or SHA-512 is required/ },
    { file: 'ed25519.csr', reason: /^key type Ed25519 is not accepted/ },
    { file: 'p521.csr', reason: /^EC curve P-521 \(secp521r1\) is not accepted \(only P-256 and P-384\)$/ },
    { file: 'no-cn.csr', reason: /^the subject has no common name \(CN\)/ },
    { file: 'two-cn.csr', reason: /^the subject has 2 common names \(CN\)/ },
    { file: 'two-cn-one-rdn.csr', reason: /^the subject has 2 common names \(CN\)/ },
    { file: 'empty-cn.csr', reason: /^the subject common name \(CN\) is empty$/ },
    { file: 'long-cn.csr', reason: /^the subject common name \(CN\) is 129 characters long; at most 128$/ },
    { file: 'truncated.csr', reason: /^malformed DER: truncated/ },
    { file: 'two-blocks.csr', reason: /^2 PEM blocks; send exactly one CERTIFICATE REQUEST$/ },
  ])('$file', async ({ file, reason }) => {
    const err = await expectPkiError(parseCertificateRequest(await fixture(file)), 'CSR_INVALID');
    expect(err.message).toMatch(reason);
  });

  describe('text that is not one well-formed PEM request', () => {
    let pem: string;
    beforeAll(async () => {
      pem = await fixture('ec-p256.csr');
    });
    const lines = () => pem.trim().split('\n');

    it.each<[string, () => unknown, RegExp]>([
      ['an empty string', () => '', /^empty/],
      ['blanks only', () => ' \n\t ', /^empty/],
      ['a value that is not a string', () => 42, /^empty/],
      ['text that is not PEM', () => 'hello, I am a CSR', /^not PEM: no "-----BEGIN CERTIFICATE REQUEST-----" line$/],
      ['bare base64 DER without armour', () => lines().slice(1, -1).join(''), /^not PEM/],
      ['a certificate instead of a request', () => pem.replaceAll('CERTIFICATE REQUEST', 'CERTIFICATE'), /^a PEM block of type "CERTIFICATE", expected CERTIFICATE REQUEST$/],
      ['a missing END line', () => lines().slice(0, -1).join('\n'), /^truncated: no "-----END CERTIFICATE REQUEST-----" line$/],
      ['text before the block', () => `Subject: CN=agent\n${pem}`, /^text outside the PEM block$/],
      ['text after the block', () => `${pem}\nsigned, agent`, /^text outside the PEM block$/],
      ['PEM headers', () => pem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n'), /PEM headers/],
      ['characters outside base64', () => pem.replace(/\n[A-Za-z0-9+/]{4}/, '\n!!!!'), /not valid base64/],
      ['a body line cut short', () => pem.replace(/\n([A-Za-z0-9+/]{64})\n/, (_m, line: string) => `\n${line.slice(0, 61)}\n`), /not valid base64/],
      ['an empty body', () => '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----', /^empty PEM body$/],
      ['a body that is base64 of something else', () => `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from('not DER at all').toString('base64')}\n-----END CERTIFICATE REQUEST-----`, /^malformed DER/],
      ['a DER certificate request with a byte appended', () => `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.concat([derOf(pem), Buffer.from([0])]).toString('base64')}\n-----END CERTIFICATE REQUEST-----`, /^malformed DER: 1 unexpected bytes after the DER structure$/],
      ['a DER SEQUENCE that is not a request', () => `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from('3003020101', 'hex').toString('base64')}\n-----END CERTIFICATE REQUEST-----`, /^malformed: not a PKCS#10 certificate request$/],
      ['more than 32 KiB', () => `${pem}${' '.repeat(33 * 1024)}`, /^too large/],
    ])('%s', async (_what, makeInput, reason) => {
      const err = await expectPkiError(parseCertificateRequest(makeInput() as string), 'CSR_INVALID');
      expect(err.message).toMatch(reason);
    });
  });

  describe('requests made live', () => {
    let key: DeviceKey;
    let other: DeviceKey;
    beforeAll(async () => {
      [key, other] = await Promise.all([makeDeviceKey('EC-P256'), makeDeviceKey('RSA-2048')]);
    });

    it.each<[string, () => Promise<string>, RegExp]>([
      ['one key named, another key signing (no proof of possession)', () => key.csrPem(cn('agent-1'), { signer: other }), /no proof of possession/],
      ['a CN with a control character', () => key.csrPem(cn('agent\n1')), /contains control characters/],
      ['a CN of blanks', () => key.csrPem(cn('   ')), /is empty/],
      ['a CN of 129 non-ASCII characters', () => key.csrPem(cn('é'.repeat(129))), /129 characters long/],
    ])('%s', async (_what, makePem, reason) => {
      const err = await expectPkiError(parseCertificateRequest(await makePem()), 'CSR_INVALID');
      expect(err.message).toMatch(reason);
    });

    it('a request whose signature has one bit flipped', async () => {
      const der = derOf(await key.csrPem(cn('agent-1')));
      der[der.length - 3] ^= 0x01;
      const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
      const err = await expectPkiError(parseCertificateRequest(pem), 'CSR_INVALID');
      expect(err.message).toMatch(/signature does not verify/);
    });

    it('a request whose signed subject was altered after signing', async () => {
      const der = derOf(await key.csrPem(cn('agent-1')));
      const at = der.indexOf(Buffer.from('agent-1'));
      der.write('agent-2', at);
      const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
      const err = await expectPkiError(parseCertificateRequest(pem), 'CSR_INVALID');
      expect(err.message).toMatch(/signature does not verify/);
    });
  });
});
