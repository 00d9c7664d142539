// The issuance benchmark's two baselines, measured in the same run as approveClients: raw node:crypto
// ECDSA P-256 signatures, and pure node-forge X.509 certificates (RSA-2048: forge has no ECDSA).
import { generateKeyPairSync, randomBytes, sign as cryptoSign, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/** rawSigner signs a 400-byte buffer with an EC P-256 key, count times per run. */
export function rawSigner() {
  // Same kind of key as the core CA (EC P-256); made here so the baseline needs nothing from the core.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tbs = randomBytes(400);
  let sink = 0;
  return {
    run(count: number) {
      for (let i = 0; i < count; i++) sink += cryptoSign('sha256', tbs, privateKey).length;
      if (sink === 0) throw new Error('no signatures');
    },
    /** signOnce is one signature of tbs (the SQL baseline stores it). */
    signOnce: () => cryptoSign('sha256', tbs, privateKey),
    tbs,
    bytesSigned: tbs.length,
  };
}

/** forgeIssuer builds, signs and PEM-encodes client certificates with node-forge, count per run. */
export function forgeIssuer() {
  const pki = forge.pki;
  // CA key made natively (fast), then handed to forge; forge does all of the certificate work and the signing.
  const caNode = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caKey = pki.privateKeyFromPem(caNode.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const caSubject = [{ name: 'commonName', value: 'bench-core certfleet CA' }];
  const caCert = pki.createCertificate();
  caCert.publicKey = pki.publicKeyFromPem(caNode.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  caCert.serialNumber = '01';
  caCert.validity.notBefore = new Date();
  caCert.validity.notAfter = new Date(Date.now() + 3650 * 86_400_000);
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(caKey, forge.md.sha256.create());
  const caKeyId = caCert.generateSubjectKeyIdentifier().getBytes();

  // Subject keys: a few native RSA-2048 keys used in turn (the subject key does not change the signing cost).
  const subjectKeys = Array.from({ length: 4 }, () =>
    pki.publicKeyFromPem(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  );

  // The same content as the core's client certificates: random 16-octet serial, 5-minute backdate,
  // CN = agent id, basicConstraints, keyUsage, extKeyUsage clientAuth, SKI, AKI; PEM out.
  let n = 0;
  const issueOne = (): string => {
    const i = n++;
    const cert = pki.createCertificate();
    cert.publicKey = subjectKeys[i % subjectKeys.length]!;
    const serial = randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x01;
    cert.serialNumber = serial.toString('hex');
    const t = Date.now();
    cert.validity.notBefore = new Date(t - 5 * 60_000);
    cert.validity.notAfter = new Date(t + 365 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: `agent-${i}` }]);
    cert.setIssuer(caSubject);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: caKeyId },
    ]);
    cert.sign(caKey, forge.md.sha256.create());
    return pki.certificateToPem(cert);
  };

  // Check once that forge makes a certificate Node parses and the CA key verifies.
  const check = new X509Certificate(issueOne());
  if (!check.verify(caNode.publicKey) || !check.subject.includes('agent-0')) {
    throw new Error('the node-forge baseline made a certificate that does not verify');
  }
  let sink = 0;
  return {
    run(count: number) {
      for (let i = 0; i < count; i++) sink += issueOne().length;
      if (sink === 0) throw new Error('no certificates');
    },
  };
}
