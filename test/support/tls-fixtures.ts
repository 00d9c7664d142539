import { X509Certificate, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createCaSigner, createCertificateAuthority, type CaSigner } from '../../src/pki/index.js';

/** IssuedPair is one client certificate, PEM, with the DER TLS peers see and the key it was made for (PEM). */
export interface IssuedPair {
  certPem: string;
  /** The key made for this certificate; '' when it was issued for a caller's public key. */
  keyPem: string;
  der: Buffer;
}

/** TlsFixtures is a throw-away core CA, the gateway certificate it issued, and a way to issue client certificates. */
export interface TlsFixtures {
  caCertificatePem: string;
  signer: CaSigner;
  /** For localhost and 127.0.0.1, as src/main.ts issues it. */
  server: { certificatePem: string; privateKeyPem: string };
  /** issueClient issues a client certificate with subject CN=commonName, for publicKey or a new P-256 key. */
  issueClient(commonName: string, publicKey?: KeyObject): Promise<IssuedPair>;
}

/** createTlsFixtures makes the CA with createCertificateAuthority and signs with the real createCaSigner. */
export async function createTlsFixtures(): Promise<TlsFixtures> {
  const authority = await createCertificateAuthority({ commonName: 'gateway-test' });
  const signer = await createCaSigner({
    certificatePem: authority.certificatePem,
    privateKey: createPrivateKey({ key: authority.privateKeyPkcs8, format: 'der', type: 'pkcs8' }),
  });
  const server = await signer.issueServerCertificate({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
  return {
    caCertificatePem: authority.certificatePem,
    signer,
    server: { certificatePem: server.certificatePem, privateKeyPem: server.privateKeyPem },
    async issueClient(commonName, publicKey) {
      const pair = publicKey ? null : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const spki = (publicKey ?? pair!.publicKey).export({ type: 'spki', format: 'der' });
      const issued = await signer.issueClientCertificate({ subjectCommonName: commonName, publicKeySpki: spki, validityDays: 1 });
      const der = new X509Certificate(issued.certificatePem).raw;
      const keyPem = pair ? pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() : '';
      return { certPem: issued.certificatePem, keyPem, der };
    },
  };
}
