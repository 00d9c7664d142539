import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCaSigner,
  createCertificateAuthority,
  encryptForCertificate,
  type CaSigner,
} from '../../../src/pki/index.js';
import { x509 } from '../../../src/pki/x509-provider.js';
import { expectPkiError, makeDeviceKey, type DeviceKey, type DeviceKeyKind } from './helpers.js';

let signer: CaSigner;

beforeAll(async () => {
  const authority = await createCertificateAuthority({ commonName: 'core' });
  signer = await createCaSigner({
    certificatePem: authority.certificatePem,
    privateKey: createPrivateKey({ key: authority.privateKeyPkcs8, format: 'der', type: 'pkcs8' }),
  });
});

describe.each<[DeviceKeyKind, string]>([
  ['RSA-2048', 'RSA-OAEP-256'],
  ['RSA-4096', 'RSA-OAEP-256'],
  ['EC-P256', 'ECDH-ES+A256KW'],
  ['EC-P384', 'ECDH-ES+A256KW'],
])('encryptForCertificate to an %s device certificate', (kind, alg) => {
  let device: DeviceKey;
  let stranger: DeviceKey;
  let certificatePem: string;
  let serialNumber: string;

  beforeAll(async () => {
    [device, stranger] = await Promise.all([makeDeviceKey(kind), makeDeviceKey(kind)]);
    ({ certificatePem, serialNumber } = await signer.issueClientCertificate({ subjectCommonName: 'agent-1', publicKeySpki: device.spki, validityDays: 1 }));
  });

  it(`is a compact JWE with alg ${alg}, enc A256GCM and the certificate serial as kid`, async () => {
    const jwe = await encryptForCertificate('core secret', certificatePem);
    expect(jwe.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg, enc: 'A256GCM', kid: serialNumber });
  });

  it('decrypts with the device private key', async () => {
    const { plaintext, protectedHeader } = await compactDecrypt(await encryptForCertificate('core secret ✓', certificatePem), device.privateKey);
    expect(new TextDecoder().decode(plaintext)).toBe('core secret ✓');
    expect(protectedHeader.kid).toBe(serialNumber);
  });

  it('carries bytes as they are', async () => {
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const { plaintext } = await compactDecrypt(await encryptForCertificate(bytes, certificatePem), device.privateKey);
    expect(Buffer.from(plaintext)).toEqual(Buffer.from(bytes));
  });

  it('does not decrypt with another key of the same kind', async () => {
    await expect(compactDecrypt(await encryptForCertificate('core secret', certificatePem), stranger.privateKey)).rejects.toThrow();
  });

  it('encrypts differently each time', async () => {
    expect(await encryptForCertificate('same', certificatePem)).not.toBe(await encryptForCertificate('same', certificatePem));
  });

  it('takes the DER as TLS hands it over, to the same key and kid as the PEM', async () => {
    const der = new X509Certificate(certificatePem).raw;
    const jwe = await encryptForCertificate('core secret', der);
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg, enc: 'A256GCM', kid: serialNumber });
    const { plaintext } = await compactDecrypt(jwe, device.privateKey);
    expect(new TextDecoder().decode(plaintext)).toBe('core secret');
  });
});

describe('encryptForCertificate refuses with CERTIFICATE_INVALID', () => {
  it.each<[string, () => Promise<string>]>([
    ['text that is not PEM', async () => 'hello'],
    ['a certificate request', async () => {
      const key = await makeDeviceKey('EC-P256');
      return key.csrPem('CN=agent-1');
    }],
    ['a PEM certificate with a damaged body', async () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'],
    ['a certificate with an Ed25519 key', async () => {
      const keys = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const certificate = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=agent-1', keys, signingAlgorithm: { name: 'Ed25519' } });
      return certificate.toString('pem');
    }],
  ])('%s', async (_what, makePem) => {
    await expectPkiError(encryptForCertificate('secret', await makePem()), 'CERTIFICATE_INVALID');
  });

  it.each<[string, Uint8Array]>([
    ['DER that is not a certificate', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])],
    ['empty DER', new Uint8Array(0)],
  ])('%s', async (_what, der) => {
    await expectPkiError(encryptForCertificate('secret', der), 'CERTIFICATE_INVALID');
  });
});
