import { createPrivateKey, webcrypto, sign, createHash } from 'node:crypto';
import { x509 } from '../../../src/pki/x509-provider.js';
import { createCertificateAuthority } from '../../../src/pki/index.js';
const ca = await createCertificateAuthority({ commonName: 'core' });
const pk = createPrivateKey({ key: ca.privateKeyPkcs8, format: 'der', type: 'pkcs8' });
const key = await webcrypto.subtle.importKey('pkcs8', ca.privateKeyPkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
const data = Buffer.alloc(400, 1);
async function time(label: string, f: () => unknown, n = 2000) {
  for (let i = 0; i < 100; i++) await f();
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(label, ((performance.now() - t) / n).toFixed(4));
}
await time('webcrypto sign', () => webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data));
await time('node sign sync', () => sign('sha256', data, pk));
await time('node sign async', () => new Promise((r) => sign('sha256', data, pk, r)));
await time('Name json', () => new x509.Name([{ CN: [{ utf8String: 'agent-1' }] }]));
const caCert = new x509.X509Certificate(ca.certificatePem);
await time('ext', () => [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(1, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]), new x509.SubjectKeyIdentifierExtension('00112233445566778899aabbccddeeff00112233')]);
const spki = Buffer.from(caCert.publicKey.rawData);
await time('create w/ fake sig', () => x509.X509CertificateGenerator.create({ serialNumber: '11', subject: 'CN=a', issuer: caCert.subjectName, publicKey: spki, signature: new Uint8Array(64) } as any));
await time('create w/ sign', () => x509.X509CertificateGenerator.create({ serialNumber: '11', subject: 'CN=a', issuer: caCert.subjectName, publicKey: spki, signingKey: key, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } } as any));
