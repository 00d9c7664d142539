import { createPrivateKey, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCaSigner,
  createCertificateAuthority,
  encodeCrlEntry,
  normalizeSerialNumber,
  parseCertificateRequest,
  type CaSigner,
  type CreatedAuthority,
  type IssuedCertificate,
  type ParsedCsr,
} from '../../../src/pki/index.js';
import { x509 } from '../../../src/pki/x509-provider.js';
import { cn, derOf, expectPkiError, makeDeviceKey, makeTempDir, openssl, type DeviceKey, type DeviceKeyKind, type TempDir } from './helpers.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function keyOf(authority: CreatedAuthority): KeyObject {
  return createPrivateKey({ key: authority.privateKeyPkcs8, format: 'der', type: 'pkcs8' });
}

async function signerFor(authority: CreatedAuthority): Promise<CaSigner> {
  return createCaSigner({ certificatePem: authority.certificatePem, privateKey: keyOf(authority) });
}

// A CA of another key type, made with @peculiar/x509 the way createCertificateAuthority makes ours.
async function makeOtherCa(
  kind: 'EC-P384' | 'RSA-2048' | 'Ed25519',
  name = 'CN=other certfleet CA',
): Promise<{ certificatePem: string; privateKey: KeyObject }> {
  const algorithm =
    kind === 'EC-P384'
      ? { name: 'ECDSA', namedCurve: 'P-384' }
      : kind === 'RSA-2048'
        ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
        : { name: 'Ed25519' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    signingAlgorithm: kind === 'EC-P384' ? { name: 'ECDSA', hash: 'SHA-384' } : kind === 'RSA-2048' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'Ed25519' },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certificatePem: certificate.toString('pem'), privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) };
}

// A self-signed leaf made by an agent for itself (as 2016 agents do before enrolling).
async function makeSelfSigned(opts: { name: string; extendedKeyUsage?: boolean }): Promise<Buffer> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: opts.name,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...(opts.extendedKeyUsage === false ? [] : [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])]),
    ],
  });
  return Buffer.from(certificate.rawData);
}

let authority: CreatedAuthority;
let signer: CaSigner;
let dir: TempDir;

beforeAll(async () => {
  authority = await createCertificateAuthority({ commonName: 'core-01' });
  signer = await signerFor(authority);
  dir = await makeTempDir('signer');
  await dir.write('ca.pem', authority.certificatePem);
});

afterAll(async () => {
  await dir?.remove();
});

describe.each<DeviceKeyKind>(['RSA-2048', 'RSA-4096', 'EC-P256', 'EC-P384'])('issueClientCertificate for an %s CSR', (kind) => {
  const agentId = `agent-${kind.toLowerCase()}`;
  const file = `client-${kind}.pem`;
  const now = new Date();
  let csr: ParsedCsr;
  let issued: IssuedCertificate;
  let text: string;

  beforeAll(async () => {
    const key = await makeDeviceKey(kind);
    csr = await parseCertificateRequest(await key.csrPem(cn(agentId)));
    issued = await signer.issueClientCertificate({ subjectCommonName: csr.subjectCommonName, publicKeySpki: csr.publicKeySpki, validityDays: 30, now });
    await dir.write(file, issued.certificatePem);
    text = openssl(['x509', '-noout', '-text', '-in', file], dir.path).output;
  });

  it('verifies with openssl against the CA for the TLS client purpose', () => {
    expect(openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', file], dir.path).output.trim()).toBe(`${file}: OK`);
  });

  it.each([
    ['is v3', /Version: 3 \(0x2\)/],
    ['is not a CA (critical)', /X509v3 Basic Constraints: critical\s+CA:FALSE\n/],
    ['is for TLS client authentication only', /X509v3 Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/],
    ['names the agent id as its only subject attribute', new RegExp(`Subject: CN = ${agentId}\\n`)],
    ['is issued by the CA subject', /Issuer: CN = core-01 certfleet CA, O = certfleet\n/],
    ['is signed with ECDSA SHA-256', /Signature Algorithm: ecdsa-with-SHA256/],
    ['carries a subject key identifier', /X509v3 Subject Key Identifier: \s*\n\s+[0-9A-F:]{59}\n/],
  ])('%s', (_what, pattern) => {
    expect(text).toMatch(pattern);
  });

  it(`has key usage ${kind.startsWith('RSA') ? 'Digital Signature and Key Encipherment' : 'Digital Signature only'} (critical)`, () => {
    const usage = kind.startsWith('RSA') ? 'Digital Signature, Key Encipherment' : 'Digital Signature';
    expect(text).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${usage}\\n`));
  });

  it('names the CA key as its authority key identifier', () => {
    const caText = openssl(['x509', '-noout', '-ext', 'subjectKeyIdentifier', '-in', 'ca.pem'], dir.path).output;
    const caKeyId = /([0-9A-F]{2}(:[0-9A-F]{2}){19})/.exec(caText)?.[1];
    expect(caKeyId).toBeDefined();
    expect(text).toMatch(new RegExp(`X509v3 Authority Key Identifier: \\s*\\n\\s+(keyid:)?${caKeyId}\\n`));
  });

  it('has a positive 128-bit serial, returned in canonical form', () => {
    const serial = /Serial Number:\s*\n\s+([0-9a-f:]+)\n/.exec(text)?.[1];
    expect(serial?.split(':')).toHaveLength(16);
    expect(serial?.replaceAll(':', '')).toBe(issued.serialNumber);
    expect(issued.serialNumber).toMatch(/^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/);
    expect(normalizeSerialNumber(issued.serialNumber)).toBe(issued.serialNumber);
    expect(openssl(['x509', '-noout', '-serial', '-in', file], dir.path).output.trim()).toBe(`serial=${issued.serialNumber.toUpperCase()}`);
  });

  it('is valid from five minutes before now for the days asked, as returned', () => {
    const certificate = new X509Certificate(issued.certificatePem);
    const second = (ms: number) => Math.floor(ms / 1000) * 1000;
    expect(issued.notBefore.getTime()).toBe(second(now.getTime() - 5 * 60 * 1000));
    expect(issued.notAfter.getTime()).toBe(second(now.getTime() + 30 * DAY_MS));
    expect(new Date(certificate.validFrom).getTime()).toBe(issued.notBefore.getTime());
    expect(new Date(certificate.validTo).getTime()).toBe(issued.notAfter.getTime());
  });

  it('certifies exactly the key of the request', () => {
    expect(new X509Certificate(issued.certificatePem).publicKey.export({ type: 'spki', format: 'der' })).toEqual(csr.publicKeySpki);
    expect(signer.inspectPresentedCertificate(derOf(issued.certificatePem)).publicKeyFingerprint).toBe(csr.publicKeyFingerprint);
  });
});

describe('issueClientCertificate validity', () => {
  let key: DeviceKey;
  beforeAll(async () => {
    key = await makeDeviceKey('EC-P256');
  });

  it('issues a certificate that lasts validitySeconds, overriding validityDays, and openssl sees it expire', async () => {
    const now = new Date();
    const issued = await signer.issueClientCertificate({ subjectCommonName: 'agent-short', publicKeySpki: key.spki, validityDays: 30, validitySeconds: 2, now });
    expect(issued.notAfter.getTime() - now.getTime()).toBeLessThanOrEqual(2000);
    expect(issued.notAfter.getTime() - now.getTime()).toBeGreaterThan(1000);
    await dir.write('short.pem', issued.certificatePem);
    const later = String(Math.floor(now.getTime() / 1000) + 3);
    const expired = openssl(['verify', '-CAfile', 'ca.pem', '-attime', later, 'short.pem'], dir.path, { allowFailure: true });
    expect(expired.status).not.toBe(0);
    expect(expired.output).toMatch(/certificate has expired/);
  });

  it('never issues past the CA\'s own notAfter', async () => {
    const now = new Date(authority.notAfter.getTime() - 10 * DAY_MS);
    const issued = await signer.issueClientCertificate({ subjectCommonName: 'agent-late', publicKeySpki: key.spki, validityDays: 365, now });
    expect(issued.notAfter).toEqual(authority.notAfter);
  });

  it('refuses to issue once the CA has expired, with CA_EXPIRED', async () => {
    const now = new Date(authority.notAfter.getTime() + 1000);
    await expectPkiError(signer.issueClientCertificate({ subjectCommonName: 'agent-x', publicKeySpki: key.spki, validityDays: 1, now }), 'CA_EXPIRED');
  });

  it.each([
    ['zero days', { validityDays: 0 }],
    ['negative days', { validityDays: -1 }],
    ['NaN days', { validityDays: Number.NaN }],
    ['zero seconds, even with days', { validityDays: 30, validitySeconds: 0 }],
    ['infinite days', { validityDays: Number.POSITIVE_INFINITY }],
  ])('refuses a validity of %s with a RangeError', async (_what, validity) => {
    await expect(signer.issueClientCertificate({ subjectCommonName: 'agent-x', publicKeySpki: key.spki, ...validity })).rejects.toBeInstanceOf(RangeError);
  });

  it('gives every certificate a different canonical serial', async () => {
    const serials = await Promise.all(
      Array.from({ length: 64 }, () => signer.issueClientCertificate({ subjectCommonName: 'agent-s', publicKeySpki: key.spki, validityDays: 1 })),
    ).then((all) => all.map((c) => c.serialNumber));
    expect(new Set(serials).size).toBe(64);
    for (const serial of serials) expect(serial).toMatch(/^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/);
  });
});

describe('issueClientCertificate re-checks what it signs, with CSR_INVALID', () => {
  it.each<[string, () => Promise<{ subjectCommonName: string; publicKeySpki: Buffer }>, RegExp]>([
    ['an empty CN', async () => ({ subjectCommonName: '', publicKeySpki: (await makeDeviceKey('EC-P256')).spki }), /empty/],
    ['a CN of 129 characters', async () => ({ subjectCommonName: 'x'.repeat(129), publicKeySpki: (await makeDeviceKey('EC-P256')).spki }), /129 characters/],
    ['an Ed25519 key', async () => {
      const { publicKey } = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
      return { subjectCommonName: 'agent-1', publicKeySpki: Buffer.from(await webcrypto.subtle.exportKey('spki', publicKey)) };
    }, /key type Ed25519 is not accepted/],
    ['bytes that are not a key', async () => ({ subjectCommonName: 'agent-1', publicKeySpki: randomBytes(91) }), /malformed/],
  ])('%s', async (_what, makeRequest, reason) => {
    const err = await expectPkiError(signer.issueClientCertificate({ ...(await makeRequest()), validityDays: 1 }), 'CSR_INVALID');
    expect(err.message).toMatch(reason);
  });
});

describe('createCaSigner', () => {
  it.each(['EC-P384', 'RSA-2048'] as const)('signs with an %s CA key too, and openssl verifies certificate and CRL', async (kind) => {
    const other = await makeOtherCa(kind);
    const otherSigner = await createCaSigner(other);
    const key = await makeDeviceKey('EC-P256');
    const issued = await otherSigner.issueClientCertificate({ subjectCommonName: 'agent-1', publicKeySpki: key.spki, validityDays: 1 });
    const crl = await otherSigner.createCrl({
      entries: [{ serialNumber: issued.serialNumber, revokedAt: new Date(), reason: 'SUPERSEDED' }],
      crlNumber: 1,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + DAY_MS),
    });
    await dir.write(`ca-${kind}.pem`, other.certificatePem);
    await dir.write(`client-of-${kind}.pem`, issued.certificatePem);
    await dir.write(`crl-${kind}.pem`, crl);
    expect(openssl(['verify', '-CAfile', `ca-${kind}.pem`, '-purpose', 'sslclient', `client-of-${kind}.pem`], dir.path).output).toMatch(/: OK\n$/);
    expect(openssl(['crl', '-in', `crl-${kind}.pem`, '-CAfile', `ca-${kind}.pem`, '-noout'], dir.path).output).toMatch(/verify OK/);
    expect(otherSigner.inspectPresentedCertificate(derOf(issued.certificatePem)).chainsToCa).toBe(true);
  });

  // The CA signs with the synchronous node:crypto sign (DER ECDSA, PKCS#1 v1.5 RSA): an independent X.509 library and
  // openssl must both accept the result, with the signature algorithm the CA key calls for.
  it.each([
    ['EC-P256', { name: 'ECDSA', hash: { name: 'SHA-256' } }],
    ['EC-P384', { name: 'ECDSA', hash: { name: 'SHA-384' } }],
    ['RSA-2048', { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } }],
  ] as const)('issues with an %s CA key a certificate that @peculiar/x509 and openssl verify', async (kind, algorithm) => {
    const pair =
      kind === 'EC-P256'
        ? await createCertificateAuthority({ commonName: 'core-p256' }).then((ca) => ({ certificatePem: ca.certificatePem, privateKey: keyOf(ca) }))
        : await makeOtherCa(kind, `CN=${kind} certfleet CA`);
    const caSigner = await createCaSigner(pair);
    const key = await makeDeviceKey('EC-P256');
    const issued = await caSigner.issueClientCertificate({ subjectCommonName: 'agent-v', publicKeySpki: key.spki, validityDays: 1 });
    const certificate = new x509.X509Certificate(issued.certificatePem);
    const caCertificate = new x509.X509Certificate(pair.certificatePem);
    expect(certificate.signatureAlgorithm).toMatchObject(algorithm);
    expect(await certificate.verify({ publicKey: caCertificate.publicKey, signatureOnly: true })).toBe(true);
    // A certificate from another CA must not pass the same check (the check is not vacuous).
    const stranger = new x509.X509Certificate((await makeOtherCa('EC-P384', 'CN=stranger')).certificatePem);
    expect(await certificate.verify({ publicKey: stranger.publicKey, signatureOnly: true })).toBe(false);
    await dir.write(`ca-v-${kind}.pem`, pair.certificatePem);
    await dir.write(`client-v-${kind}.pem`, issued.certificatePem);
    expect(openssl(['verify', '-CAfile', `ca-v-${kind}.pem`, '-purpose', 'sslclient', `client-v-${kind}.pem`], dir.path).output.trim()).toBe(
      `client-v-${kind}.pem: OK`,
    );
  });

  it('refuses the key of another CA with CA_KEY_MISMATCH', async () => {
    const other = await createCertificateAuthority({ commonName: 'core-01' });
    await expectPkiError(createCaSigner({ certificatePem: authority.certificatePem, privateKey: keyOf(other) }), 'CA_KEY_MISMATCH');
  });

  it('refuses a public key where the private key belongs, with CA_KEY_MISMATCH', async () => {
    const publicKey = new X509Certificate(authority.certificatePem).publicKey;
    await expectPkiError(createCaSigner({ certificatePem: authority.certificatePem, privateKey: publicKey }), 'CA_KEY_MISMATCH');
  });

  it('refuses an Ed25519 CA with CA_KEY_UNSUPPORTED', async () => {
    await expectPkiError(createCaSigner(await makeOtherCa('Ed25519')), 'CA_KEY_UNSUPPORTED');
  });

  it.each<[string, () => string]>([
    ['not PEM', () => 'hello'],
    ['two certificates', () => `${authority.certificatePem}\n${authority.certificatePem}`],
    ['a certificate request', () => authority.certificatePem.replaceAll('CERTIFICATE', 'CERTIFICATE REQUEST')],
  ])('refuses a CA certificate that is %s with CERTIFICATE_INVALID', async (_what, makePem) => {
    await expectPkiError(createCaSigner({ certificatePem: makePem(), privateKey: keyOf(authority) }), 'CERTIFICATE_INVALID');
  });

  it('hands back the CA certificate and subject', () => {
    expect(signer.certificatePem).toBe(authority.certificatePem);
    expect(signer.subject).toBe(authority.subject);
  });
});

describe('issueServerCertificate', () => {
  let server: { certificatePem: string; privateKeyPem: string };
  let text: string;

  beforeAll(async () => {
    server = await signer.issueServerCertificate({ hostnames: ['gw.example.test', 'Localhost.'], ipAddresses: ['127.0.0.1', '::1'], validityDays: 397 });
    await dir.write('server.pem', server.certificatePem);
    text = openssl(['x509', '-noout', '-text', '-in', 'server.pem'], dir.path).output;
  });

  it('verifies with openssl for the TLS server purpose', () => {
    expect(openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', 'server.pem'], dir.path).output.trim()).toBe('server.pem: OK');
  });

  it.each([
    ['names every host name and address (lower-cased, without a trailing dot)', /X509v3 Subject Alternative Name: \s*\n\s+DNS:gw\.example\.test, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1\n/],
    ['is for TLS server authentication only', /X509v3 Extended Key Usage: \s*\n\s+TLS Web Server Authentication\n/],
    ['has key usage Digital Signature (critical)', /X509v3 Key Usage: critical\s+Digital Signature\n/],
    ['is not a CA', /X509v3 Basic Constraints: critical\s+CA:FALSE/],
    ['has a fresh P-256 key', /NIST CURVE: P-256/],
    ['labels itself with the first host name', /Subject: CN = gw\.example\.test\n/],
  ])('%s', (_what, pattern) => {
    expect(text).toMatch(pattern);
  });

  it('comes with its PKCS#8 private key', () => {
    const key = createPrivateKey(server.privateKeyPem);
    expect(server.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new X509Certificate(server.certificatePem).checkPrivateKey(key)).toBe(true);
  });

  describe('serves TLS', () => {
    let tlsServer: tls.Server;
    let port: number;
    let client: { certificatePem: string; keyPem: string };
    const presented: Array<{ authorized: boolean; raw?: Buffer }> = [];

    beforeAll(async () => {
      const key = await makeDeviceKey('EC-P256');
      const issued = await signer.issueClientCertificate({ subjectCommonName: 'agent-tls', publicKeySpki: key.spki, validityDays: 1 });
      client = { certificatePem: issued.certificatePem, keyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
      // As the agent gateway does: client certificates requested, not required.
      tlsServer = tls.createServer(
        { key: server.privateKeyPem, cert: server.certificatePem, ca: authority.certificatePem, requestCert: true, rejectUnauthorized: false },
        (socket) => {
          const peer = socket.getPeerCertificate();
          presented.push({ authorized: socket.authorized, raw: peer && 'raw' in peer ? peer.raw : undefined });
          socket.end('hello');
        },
      );
      tlsServer.listen(0, '127.0.0.1');
      await once(tlsServer, 'listening');
      port = (tlsServer.address() as AddressInfo).port;
    });

    afterAll(async () => {
      tlsServer?.close();
    });

    async function connect(opts: tls.ConnectionOptions): Promise<string> {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: authority.certificatePem, ...opts });
      try {
        let body = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          body += chunk;
        });
        await once(socket, 'end');
        return body;
      } finally {
        socket.destroy();
      }
    }

    it.each([
      ['by host name (SNI)', { servername: 'gw.example.test' }],
      ['by IP address', {}],
      ['by localhost', { servername: 'localhost' }],
    ])('to a client that trusts the CA, connecting %s', async (_what, opts) => {
      expect(await connect(opts)).toBe('hello');
    });

    it('and a client connecting by a name the certificate lacks is refused', async () => {
      await expect(connect({ servername: 'other.example.test' })).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    });

    it('and the client certificate a device presents reads back as chaining to the CA', async () => {
      presented.length = 0;
      expect(await connect({ servername: 'gw.example.test', cert: client.certificatePem, key: client.keyPem })).toBe('hello');
      expect(presented).toHaveLength(1);
      expect(presented[0].authorized).toBe(true);
      const seen = signer.inspectPresentedCertificate(presented[0].raw!);
      expect(seen).toMatchObject({ chainsToCa: true, selfSigned: false, subjectCommonName: 'agent-tls', hasClientAuth: true });
    });
  });

  it.each([
    ['no names at all', { hostnames: [], ipAddresses: [] }],
    ['a host name with a space', { hostnames: ['gw example'], ipAddresses: [] }],
    ['a host name with a leading dash', { hostnames: ['-gw.example'], ipAddresses: [] }],
    ['an address that is not an IP', { hostnames: ['gw'], ipAddresses: ['300.1.1.1'] }],
  ])('refuses %s with a RangeError', async (_what, names) => {
    await expect(signer.issueServerCertificate({ ...names, validityDays: 1 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('inspectPresentedCertificate', () => {
  let key: DeviceKey;
  let issued: IssuedCertificate;
  let issuedDer: Buffer;
  let csr: ParsedCsr;

  beforeAll(async () => {
    key = await makeDeviceKey('EC-P256');
    csr = await parseCertificateRequest(await key.csrPem(cn('agent-77')));
    issued = await signer.issueClientCertificate({ subjectCommonName: 'agent-77', publicKeySpki: csr.publicKeySpki, validityDays: 7 });
    issuedDer = derOf(issued.certificatePem);
  });

  it('reads a certificate this CA issued: chains to the CA, with its serial, CN, dates, key and client use', () => {
    expect(signer.inspectPresentedCertificate(issuedDer)).toEqual({
      chainsToCa: true,
      selfSigned: false,
      serialNumber: issued.serialNumber,
      subjectCommonName: 'agent-77',
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      publicKeyFingerprint: csr.publicKeyFingerprint,
      hasClientAuth: true,
    });
  });

  it.each<[string, () => Promise<Buffer>, { chainsToCa: boolean; selfSigned: boolean; hasClientAuth?: boolean; subjectCommonName?: string | null }]>([
    ['a certificate from another CA with the same subject DN does not chain', async () => {
      const twin = await signerFor(await createCertificateAuthority({ commonName: 'core-01' }));
      expect(twin.subject).toBe(signer.subject);
      return derOf((await twin.issueClientCertificate({ subjectCommonName: 'agent-77', publicKeySpki: key.spki, validityDays: 7 })).certificatePem);
    }, { chainsToCa: false, selfSigned: false }],
    ['a self-signed agent certificate is self-signed and does not chain', async () => makeSelfSigned({ name: 'CN=agent-77' }), { chainsToCa: false, selfSigned: true, subjectCommonName: 'agent-77' }],
    ['a self-signed certificate that names the CA as its issuer does not chain', async () => makeSelfSigned({ name: 'CN=core-01 certfleet CA, O=certfleet' }), { chainsToCa: false, selfSigned: true }],
    ['the CA certificate itself is self-signed and not a client of the CA', async () => derOf(authority.certificatePem), { chainsToCa: false, selfSigned: true, subjectCommonName: 'core-01 certfleet CA' }],
    ['an issued certificate with one signature bit flipped does not chain', async () => {
      const der = Buffer.from(issuedDer);
      der[der.length - 5] ^= 0x01;
      return der;
    }, { chainsToCa: false, selfSigned: false }],
    ['an issued certificate with its CN altered does not chain', async () => {
      const der = Buffer.from(issuedDer);
      der.write('agent-78', der.indexOf(Buffer.from('agent-77')));
      return der;
    }, { chainsToCa: false, selfSigned: false, subjectCommonName: 'agent-78' }],
    ['a server certificate of the CA chains but is not for client use', async () => {
      return derOf((await signer.issueServerCertificate({ hostnames: ['gw'], ipAddresses: [], validityDays: 1 })).certificatePem);
    }, { chainsToCa: true, selfSigned: false, hasClientAuth: false }],
    ['a certificate without extended key usage counts as usable by clients', async () => makeSelfSigned({ name: 'CN=agent-1', extendedKeyUsage: false }), { chainsToCa: false, selfSigned: true, hasClientAuth: true }],
    ['a certificate with two CNs has no single CN', async () => makeSelfSigned({ name: 'CN=agent-1, CN=agent-2' }), { chainsToCa: false, selfSigned: true, subjectCommonName: null }],
    ['a certificate without a CN has none', async () => makeSelfSigned({ name: 'O=certfleet' }), { chainsToCa: false, selfSigned: true, subjectCommonName: null }],
  ])('%s', async (_what, makeDer, expected) => {
    expect(signer.inspectPresentedCertificate(await makeDer())).toMatchObject(expected);
  });

  it('reads a foreign serial with its top bit set in the canonical form', async () => {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=agent-9', '-set_serial', '0x80ff01', '-days', '1', '-keyout', 'foreign.key', '-out', 'foreign.pem'], dir.path);
    const pem = openssl(['x509', '-in', 'foreign.pem'], dir.path).output;
    const seen = signer.inspectPresentedCertificate(derOf(pem));
    expect(seen).toMatchObject({ serialNumber: '80ff01', selfSigned: true, chainsToCa: false, subjectCommonName: 'agent-9' });
  });

  it.each<[string, () => Buffer]>([
    ['random bytes', () => randomBytes(300)],
    ['an empty buffer', () => Buffer.alloc(0)],
    ['PEM text instead of DER', () => Buffer.from(issued.certificatePem)],
    ['a truncated certificate', () => issuedDer.subarray(0, issuedDer.length - 10)],
    ['a certificate with a byte appended', () => Buffer.concat([issuedDer, Buffer.from([0])])],
    ['a certificate request', () => derOf(csr.csrPem)],
  ])('refuses %s with CERTIFICATE_INVALID', async (_what, makeDer) => {
    await expectPkiError(() => signer.inspectPresentedCertificate(makeDer()), 'CERTIFICATE_INVALID');
  });
});

describe('createCrl', () => {
  const thisUpdate = new Date();
  const nextUpdate = new Date(thisUpdate.getTime() + DAY_MS);
  let revoked: IssuedCertificate;
  let kept: IssuedCertificate;

  beforeAll(async () => {
    const key = await makeDeviceKey('EC-P256');
    [revoked, kept] = await Promise.all([
      signer.issueClientCertificate({ subjectCommonName: 'agent-r', publicKeySpki: key.spki, validityDays: 1 }),
      signer.issueClientCertificate({ subjectCommonName: 'agent-k', publicKeySpki: key.spki, validityDays: 1 }),
    ]);
    await dir.write('revoked.pem', revoked.certificatePem);
    await dir.write('kept.pem', kept.certificatePem);
  });

  it('signs a v2 CRL that openssl verifies, listing each serial with its reason, the CRL number and the CA key id', async () => {
    const crl = await signer.createCrl({
      entries: [
        { serialNumber: revoked.serialNumber, revokedAt: new Date(thisUpdate.getTime() - 60_000), reason: 'KEY_COMPROMISE' },
        { serialNumber: '0a1b', revokedAt: thisUpdate, reason: 'SUPERSEDED' },
        { serialNumber: 'FF:01', revokedAt: thisUpdate, reason: 'CESSATION_OF_OPERATION' },
        { serialNumber: '7c', revokedAt: thisUpdate, reason: 'UNSPECIFIED' },
      ],
      crlNumber: 4242,
      thisUpdate,
      nextUpdate,
    });
    await dir.write('crl.pem', crl);
    const { output } = openssl(['crl', '-in', 'crl.pem', '-CAfile', 'ca.pem', '-noout', '-text'], dir.path);
    expect(output).toMatch(/verify OK/);
    expect(output).toMatch(/Version 2 \(0x1\)/);
    expect(output).toMatch(/X509v3 CRL Number: \s*\n\s+4242\n/);
    expect(output).toMatch(/X509v3 Authority Key Identifier: \s*\n\s+(keyid:)?[0-9A-F:]{59}\n/);
    expect(output).toMatch(new RegExp(`Serial Number: ${revoked.serialNumber.toUpperCase()}\\n\\s+Revocation Date: .*\\n\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+Key Compromise\\n`));
    expect(output).toMatch(/Serial Number: 0A1B\n\s+Revocation Date: .*\n\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code: \n\s+Superseded\n/);
    expect(output).toMatch(/Serial Number: FF01\n\s+Revocation Date: .*\n\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code: \n\s+Cessation Of Operation\n/);
    // Unspecified is written as no reason code at all, as RFC 5280 5.3.1 asks.
    expect(output).toMatch(/Serial Number: 7C\n\s+Revocation Date: .*\n(\s+Serial Number|\s+Signature Algorithm)/);

    const parsed = new x509.X509Crl(crl);
    expect(parsed.thisUpdate.getTime()).toBe(Math.floor(thisUpdate.getTime() / 1000) * 1000);
    expect(parsed.nextUpdate?.getTime()).toBe(Math.floor(nextUpdate.getTime() / 1000) * 1000);
    expect(parsed.entries.map((e) => [e.serialNumber.toLowerCase(), e.reason])).toEqual([
      [revoked.serialNumber, x509.X509CrlReason.keyCompromise],
      ['0a1b', x509.X509CrlReason.superseded],
      ['ff01', x509.X509CrlReason.cessationOfOperation],
      ['7c', undefined],
    ]);
  });

  it('signs the same entries from entries encoded once (encodeCrlEntry), as a reissue that adds a few to the last CRL does', async () => {
    const entries = [
      { serialNumber: revoked.serialNumber, revokedAt: thisUpdate, reason: 'KEY_COMPROMISE' as const },
      { serialNumber: '00ff01', revokedAt: thisUpdate, reason: 'CESSATION_OF_OPERATION' as const },
      { serialNumber: '7c', revokedAt: thisUpdate, reason: 'UNSPECIFIED' as const },
    ];
    const plain = await signer.createCrl({ entries, crlNumber: 7, thisUpdate, nextUpdate });
    const encoded = entries.map(encodeCrlEntry);
    // Serials come back normalised (the key a caller keeps entries distinct by).
    expect(encoded.map((e) => e.serialNumber)).toEqual([revoked.serialNumber, 'ff01', '7c']);
    const fromEncoded = await signer.createCrl({ entries: { encoded: encoded.map((e) => e.der) }, crlNumber: 7, thisUpdate, nextUpdate });
    // ECDSA signatures differ from one signing to the next; what is signed does not.
    const tbs = (pem: string) => {
      // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signature }: the first TLV inside.
      const der = Buffer.from(new x509.X509Crl(pem).rawData);
      const skip = (at: number) => (der[at + 1]! & 0x80 ? 2 + (der[at + 1]! & 0x7f) : 2);
      const inner = skip(0);
      const lenOctets = der[inner + 1]! & 0x80 ? der[inner + 1]! & 0x7f : 0;
      const len = lenOctets === 0 ? der[inner + 1]! : der.readUIntBE(inner + 2, lenOctets);
      return der.subarray(inner, inner + skip(inner) + len).toString('hex');
    };
    expect(tbs(fromEncoded)).toBe(tbs(plain));
    await dir.write('crl-encoded.pem', fromEncoded);
    expect(openssl(['crl', '-in', 'crl-encoded.pem', '-CAfile', 'ca.pem', '-noout'], dir.path).output).toMatch(/verify OK/);
    expect(() => encodeCrlEntry({ serialNumber: '01'.repeat(21), revokedAt: thisUpdate, reason: 'UNSPECIFIED' })).toThrow(RangeError);
  });

  it('makes openssl refuse the revoked certificate and accept the other', async () => {
    await dir.write('crl-check.pem', await signer.createCrl({
      entries: [{ serialNumber: revoked.serialNumber, revokedAt: thisUpdate, reason: 'KEY_COMPROMISE' }],
      crlNumber: 1,
      thisUpdate,
      nextUpdate,
    }));
    const refused = openssl(['verify', '-crl_check', '-CAfile', 'ca.pem', '-CRLfile', 'crl-check.pem', 'revoked.pem'], dir.path, { allowFailure: true });
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/certificate revoked/);
    expect(openssl(['verify', '-crl_check', '-CAfile', 'ca.pem', '-CRLfile', 'crl-check.pem', 'kept.pem'], dir.path).output).toMatch(/kept\.pem: OK/);
  });

  it('signs an empty CRL that openssl verifies', async () => {
    await dir.write('empty-crl.pem', await signer.createCrl({ entries: [], crlNumber: 0, thisUpdate, nextUpdate }));
    const { output } = openssl(['crl', '-in', 'empty-crl.pem', '-CAfile', 'ca.pem', '-noout', '-text'], dir.path);
    expect(output).toMatch(/verify OK/);
    expect(output).toMatch(/No Revoked Certificates\./);
    expect(output).toMatch(/X509v3 CRL Number: \s*\n\s+0\n/);
  });

  it('lists thousands of entries, each once', async () => {
    const entries = Array.from({ length: 5000 }, (_, i) => ({
      serialNumber: `7${i.toString(16).padStart(31, '0')}`,
      revokedAt: thisUpdate,
      reason: 'CESSATION_OF_OPERATION' as const,
    }));
    await dir.write('big-crl.pem', await signer.createCrl({ entries, crlNumber: 2 ** 40, thisUpdate, nextUpdate }));
    const { output } = openssl(['crl', '-in', 'big-crl.pem', '-CAfile', 'ca.pem', '-noout', '-text'], dir.path);
    expect(output).toMatch(/verify OK/);
    expect(output.match(/Serial Number: /g)).toHaveLength(5000);
    expect(output).toMatch(/X509v3 CRL Number: \s*\n\s+1099511627776\n/);
  });

  it.each([
    ['a serial listed twice (in two spellings)', { entries: [{ serialNumber: '0a', revokedAt: thisUpdate, reason: 'SUPERSEDED' as const }, { serialNumber: 'A', revokedAt: thisUpdate, reason: 'SUPERSEDED' as const }] }],
    ['a serial that is not hex', { entries: [{ serialNumber: 'xyz', revokedAt: thisUpdate, reason: 'SUPERSEDED' as const }] }],
    ['a serial over 20 octets', { entries: [{ serialNumber: '7f'.repeat(21), revokedAt: thisUpdate, reason: 'SUPERSEDED' as const }] }],
    ['an unknown reason', { entries: [{ serialNumber: '0a', revokedAt: thisUpdate, reason: 'CA_COMPROMISE' as 'SUPERSEDED' }] }],
    ['a negative CRL number', { crlNumber: -1 }],
    ['a fractional CRL number', { crlNumber: 1.5 }],
    ['nextUpdate not after thisUpdate', { nextUpdate: thisUpdate }],
  ])('refuses %s with a RangeError', async (_what, change) => {
    await expect(signer.createCrl({ entries: [], crlNumber: 1, thisUpdate, nextUpdate, ...change })).rejects.toBeInstanceOf(RangeError);
  });
});
