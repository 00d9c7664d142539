import { webcrypto, createHash } from 'node:crypto';
import { checkPublicKey } from '../../../src/pki/key-policy.js';
import { encodeCommonNameSubject, endEntityExtensions, encodeTbsCertificate } from '../../../src/pki/certificate-encoding.js';
import { subjectKeyBits } from '../../../src/pki/certificate-der.js';
import { encodePem } from '../../../src/pki/pem.js';
import { randomSerialNumber } from '../../../src/pki/serial-number.js';
const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
async function time(label: string, f: () => unknown, n = 5000) {
  for (let i = 0; i < 200; i++) await f();
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(label, ((performance.now() - t) / n).toFixed(4));
}
await time('checkPublicKey', () => checkPublicKey(spki));
await time('serial', () => randomSerialNumber());
await time('ski', () => createHash('sha1').update(subjectKeyBits(spki)).digest());
await time('exts', () => endEntityExtensions({ keyUsage: 'digitalSignature', extendedKeyUsage: 'clientAuth', subjectKeyId: Buffer.alloc(20), authorityKeyId: Buffer.alloc(20) }));
const ext = endEntityExtensions({ keyUsage: 'digitalSignature', extendedKeyUsage: 'clientAuth', subjectKeyId: Buffer.alloc(20), authorityKeyId: Buffer.alloc(20) });
await time('tbs', () => encodeTbsCertificate({ serialNumber: randomSerialNumber(), signatureAlgorithm: Buffer.alloc(12), issuerDer: Buffer.alloc(40), notBefore: new Date(), notAfter: new Date(), subjectDer: encodeCommonNameSubject('agent-1'), spkiDer: spki, extensions: ext }));
await time('pem', () => encodePem(Buffer.alloc(500), 'CERTIFICATE'));
await time('pem b64', () => Buffer.alloc(500).toString('base64').replace(/.{64}/g, '$&\n'));
await time('sign', () => webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, Buffer.alloc(500)));
