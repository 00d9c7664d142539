import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCertificateRequest } from '../../../src/pki/index.js';
import { encodePem } from '../../../src/pki/pem.js';
import { encodeCertificationRequest } from '../../../src/pki/request-encoding.js';

describe('encodeCertificationRequest', () => {
  it('writes a request the CSR checks accept: its CN, its key, and a signature that proves the key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = encodeCertificationRequest('3f2a9c1e-0b7d-4e55-9a12-6c0d8e4f7a31', privateKey);
    const parsed = await parseCertificateRequest(encodePem(der, 'CERTIFICATE REQUEST'));
    expect(parsed.subjectCommonName).toBe('3f2a9c1e-0b7d-4e55-9a12-6c0d8e4f7a31');
    expect(parsed.keyAlgorithm).toBe('EC-P256');
    expect(parsed.publicKeySpki).toEqual(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  });

  it('breaks the proof of possession when a signed byte changes', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = encodeCertificationRequest('agent-aaaa', privateKey);
    der.write('agent-bbbb', der.indexOf('agent-aaaa'), 'latin1');
    await expect(parseCertificateRequest(encodePem(der, 'CERTIFICATE REQUEST'))).rejects.toMatchObject({ code: 'CSR_INVALID' });
  });

  it.each([
    ['an EC P-384 key', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['an RSA key', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
    ['a public key', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
  ])('refuses %s', (_, key) => {
    expect(() => encodeCertificationRequest('agent', key())).toThrow(RangeError);
  });
});
