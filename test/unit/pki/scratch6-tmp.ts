import { createPrivateKey } from 'node:crypto';
import { createCertificateAuthority, createCaSigner } from '../../../src/pki/index.js';
const ca = await createCertificateAuthority({ commonName: 'core' });
const signer = await createCaSigner({ certificatePem: ca.certificatePem, privateKey: createPrivateKey({ key: ca.privateKeyPkcs8, format: 'der', type: 'pkcs8' }) });
const entries = Array.from({ length: 50000 }, (_, i) => ({ serialNumber: "7" + (i + 1).toString(16).padStart(31, "0"), revokedAt: new Date(), reason: 'KEY_COMPROMISE' as const }));
for (let k = 0; k < 3; k++) {
const t = performance.now();
const crl = await signer.createCrl({ entries, crlNumber: 7, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86400000) });
console.log('crl 50k ms', performance.now() - t, crl.length);
}
