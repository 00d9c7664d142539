import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkKeyMatchesCertificate,
  createCertificateAuthority,
  describeCertificate,
  type CreatedAuthority,
} from '../../../src/pki/index.js';
import { x509 } from '../../../src/pki/x509-provider.js';
import { expectPkiError, openssl } from './helpers.js';

describe('createCertificateAuthority, checked by openssl', () => {
  let dir: string;
  let ca: CreatedAuthority;
  let text: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certfleet-pki-ca-'));
    ca = await createCertificateAuthority({ commonName: 'core-01.example.com' });
    await writeFile(join(dir, 'ca.pem'), ca.certificatePem);
    text = openssl(['x509', '-noout', '-text', '-in', 'ca.pem'], dir).output;
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies as its own trust anchor', () => {
    expect(openssl(['verify', '-CAfile', 'ca.pem', 'ca.pem'], dir).output.trim()).toBe('ca.pem: OK');
  });

  it.each([
    ['is a CA that may not sign other CAs', /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/],
    ['may sign certificates and CRLs only (plus signatures)', /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign\s/],
    ['has a P-256 key', /ASN1 OID: prime256v1[\s\S]*NIST CURVE: P-256/],
    ['is signed with ECDSA SHA-256', /Signature Algorithm: ecdsa-with-SHA256/],
    ['names itself and certfleet as subject', /Subject: CN = core-01\.example\.com certfleet CA, O = certfleet/],
    ['is self-issued', /Issuer: CN = core-01\.example\.com certfleet CA, O = certfleet/],
    ['carries a subject key identifier', /X509v3 Subject Key Identifier:/],
    ['carries an authority key identifier', /X509v3 Authority Key Identifier:/],
  ])('%s', (_proves, pattern) => {
    expect(text).toMatch(pattern);
  });

  it('reports the same SHA-256 fingerprint as openssl', () => {
    const out = openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', 'ca.pem'], dir).output;
    const normalised = out.trim().split('=')[1].replaceAll(':', '').toLowerCase();
    expect(ca.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(ca.fingerprint).toBe(normalised);
  });

  it('reports the same serial number as openssl', () => {
    const out = openssl(['x509', '-noout', '-serial', '-in', 'ca.pem'], dir).output;
    expect(BigInt(`0x${ca.serialNumber}`)).toBe(BigInt(`0x${out.trim().split('=')[1]}`));
    expect(ca.serialNumber).toMatch(/^[0-9a-f]+$/);
  });

  it('returns a PKCS#8 DER P-256 private key', () => {
    const key = createPrivateKey({ key: ca.privateKeyPkcs8, format: 'der', type: 'pkcs8' });
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('returns a summary equal to describeCertificate of its own PEM', () => {
    const { certificatePem: _pem, privateKeyPkcs8: _key, ...summary } = ca;
    expect(describeCertificate(ca.certificatePem)).toEqual(summary);
  });
});

describe('createCertificateAuthority validity', () => {
  it.each([
    {
      proves: 'ten calendar years, notBefore five minutes early for clock skew',
      now: '2026-03-10T08:15:30.000Z',
      notBefore: '2026-03-10T08:10:30.000Z',
      notAfter: '2036-03-10T08:15:30.000Z',
    },
    {
      proves: 'a leap-day start ends on 1 March ten years on',
      now: '2024-02-29T12:00:00.000Z',
      notBefore: '2024-02-29T11:55:00.000Z',
      notAfter: '2034-03-01T12:00:00.000Z',
    },
    {
      proves: 'dates past 2049 (GeneralizedTime) survive encoding',
      now: '2045-06-15T00:02:00.000Z',
      notBefore: '2045-06-14T23:57:00.000Z',
      notAfter: '2055-06-15T00:02:00.000Z',
    },
    {
      proves: 'milliseconds are dropped, as certificates hold whole seconds',
      now: '2026-01-01T00:00:00.999Z',
      notBefore: '2025-12-31T23:55:00.000Z',
      notAfter: '2036-01-01T00:00:00.000Z',
    },
  ])('$proves', async ({ now, notBefore, notAfter }) => {
    const ca = await createCertificateAuthority({ commonName: 'core', now: new Date(now) });
    expect(ca.notBefore.toISOString()).toBe(notBefore);
    expect(ca.notAfter.toISOString()).toBe(notAfter);
    const described = describeCertificate(ca.certificatePem);
    expect(described.notBefore.toISOString()).toBe(notBefore);
    expect(described.notAfter.toISOString()).toBe(notAfter);
  });
});

describe('createCertificateAuthority serial numbers', () => {
  it('are positive, at most 127 bits, and differ between authorities', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const { serialNumber, certificatePem } = await createCertificateAuthority({ commonName: 'core' });
      const value = BigInt(`0x${serialNumber}`);
      expect(value > 0n).toBe(true);
      expect(value < 2n ** 127n).toBe(true);
      // The DER INTEGER must need no sign padding: top bit cleared means at most 16 octets.
      expect(new x509.X509Certificate(certificatePem).serialNumber.length).toBeLessThanOrEqual(32);
      serials.add(serialNumber);
    }
    expect(serials.size).toBe(8);
  });
});

describe('createCertificateAuthority subject names', () => {
  it.each([
    { proves: 'a plain host name', commonName: 'core-01.example.com', subject: 'CN=core-01.example.com certfleet CA, O=certfleet' },
    { proves: 'spaces are kept', commonName: 'Core Server 7', subject: 'CN=Core Server 7 certfleet CA, O=certfleet' },
    {
      proves: 'DN syntax characters are escaped, not parsed',
      commonName: 'core, "lab" +1; O=evil',
      subject: 'CN=core\\, \\"lab\\" \\+1\\; O=evil certfleet CA, O=certfleet',
    },
    { proves: 'a leading # is text, not hex', commonName: '#cafe', subject: 'CN=\\#cafe certfleet CA, O=certfleet' },
    { proves: 'non-ASCII names are kept', commonName: 'kern-büro', subject: 'CN=kern-büro certfleet CA, O=certfleet' },
    { proves: 'surrounding blanks are trimmed', commonName: '  core  ', subject: 'CN=core certfleet CA, O=certfleet' },
  ])('$proves', async ({ commonName, subject }) => {
    const ca = await createCertificateAuthority({ commonName });
    expect(ca.subject).toBe(subject);
    // Read the encoded attributes back: exactly one CN and one O, each holding the literal text.
    const name = new x509.X509Certificate(ca.certificatePem).subjectName;
    expect(name.toJSON()).toHaveLength(2);
    expect(name.getField('CN')).toEqual([`${commonName.trim()} certfleet CA`]);
    expect(name.getField('O')).toEqual(['certfleet']);
  });

  it.each([
    ['an empty name', ''],
    ['a blank name', '   '],
    ['a name with a newline', 'core\nO=evil'],
  ])('refuses %s', async (_what, commonName) => {
    await expect(createCertificateAuthority({ commonName })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('describeCertificate', () => {
  let ca: CreatedAuthority;

  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'core' });
  });

  it('reads a PEM with surrounding whitespace and CRLF line ends', () => {
    const pem = `\r\n${ca.certificatePem.replaceAll('\n', '\r\n')}\r\n`;
    expect(describeCertificate(pem).fingerprint).toBe(ca.fingerprint);
  });

  it.each([
    ['an empty string', () => ''],
    ['text that is not PEM', () => 'hello'],
    ['bare base64 DER without PEM armour', () => ca.certificatePem.split('\n').slice(1, -1).join('')],
    ['a PEM with a corrupted body', () => ca.certificatePem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')],
    ['a truncated certificate', () => {
      const lines = ca.certificatePem.split('\n');
      return [...lines.slice(0, 4), lines[lines.length - 1]].join('\n');
    }],
    ['a PEM block of another type', () => ca.certificatePem.replaceAll('CERTIFICATE', 'CERTIFICATE REQUEST')],
    ['two certificates', () => `${ca.certificatePem}\n${ca.certificatePem}`],
  ])('refuses %s with CERTIFICATE_INVALID', async (_what, makePem) => {
    await expectPkiError(() => describeCertificate(makePem()), 'CERTIFICATE_INVALID');
  });
});

describe('checkKeyMatchesCertificate', () => {
  let ca: CreatedAuthority;
  let other: CreatedAuthority;

  beforeAll(async () => {
    [ca, other] = await Promise.all([
      createCertificateAuthority({ commonName: 'core' }),
      createCertificateAuthority({ commonName: 'core' }),
    ]);
  });

  it('accepts the key the authority was created with', async () => {
    await expect(checkKeyMatchesCertificate(ca.certificatePem, ca.privateKeyPkcs8)).resolves.toBeUndefined();
  });

  it.each([
    ['the key of another authority with the same name', () => other.privateKeyPkcs8],
    ['an RSA key', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'der' })],
    ['a P-384 key', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'der' })],
    ['an Ed25519 key', () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' })],
    ['bytes that are not a key', () => Buffer.from('not a key')],
    ['an empty buffer', () => Buffer.alloc(0)],
  ])('refuses %s with CA_KEY_MISMATCH', async (_what, makeKey) => {
    const err = await expectPkiError(checkKeyMatchesCertificate(ca.certificatePem, makeKey()), 'CA_KEY_MISMATCH');
    expect(err.name).toBe('PkiError');
  });

  it('refuses a malformed certificate with CERTIFICATE_INVALID', async () => {
    await expectPkiError(checkKeyMatchesCertificate('not a certificate', ca.privateKeyPkcs8), 'CERTIFICATE_INVALID');
  });
});
