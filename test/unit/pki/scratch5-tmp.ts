import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createCertificateAuthority, createCaSigner } from '../../../src/pki/index.js';
import { encodeTime, encodeTlv } from '../../../src/pki/der.js';
import { normalizeSerialNumber } from '../../../src/pki/serial-number.js';
import { readCertificateParts, readCommonNames } from '../../../src/pki/certificate-der.js';
const ca = await createCertificateAuthority({ commonName: 'core' });
const signer = await createCaSigner({ certificatePem: ca.certificatePem, privateKey: createPrivateKey({ key: ca.privateKeyPkcs8, format: 'der', type: 'pkcs8' }) });
const caX = new X509Certificate(ca.certificatePem);
const der = caX.raw;
async function time(label: string, f: () => unknown, n = 3000) {
  for (let i = 0; i < 200; i++) await f();
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(label, ((performance.now() - t) / n).toFixed(4));
}
await time('X509 parse', () => new X509Certificate(der));
const c = new X509Certificate(der);
await time('verify', () => c.verify(caX.publicKey));
const pk = caX.publicKey;
await time('verify cached key', () => c.verify(pk));
await time('keyUsage', () => c.keyUsage);
await time('parts', () => readCertificateParts(der));
const p = readCertificateParts(der);
await time('cn', () => readCommonNames(p.subjectDer));
await time('time', () => encodeTime(new Date()));
await time('serial', () => normalizeSerialNumber('7f0000000000000000000000000000ab'));
await time('tlv', () => encodeTlv(0x30, Buffer.alloc(10), Buffer.alloc(10)));
