import { webcrypto, createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
async function time(label: string, f: () => unknown, n = 3000) {
  for (let i = 0; i < 200; i++) await f();
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(label, ((performance.now() - t) / n).toFixed(4));
}
await time('createPublicKey', () => createPublicKey({ key: spki, format: 'der', type: 'spki' }));
await time('createPublicKey rsa', () => createPublicKey({ key: rsa, format: 'der', type: 'spki' }));
const k = createPublicKey({ key: spki, format: 'der', type: 'spki' });
await time('details', () => k.asymmetricKeyDetails);
await time('export', () => k.export({ type: 'spki', format: 'der' }));
await time('webcrypto import', () => webcrypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']));
