// Shared by the pki unit tests: openssl in a temp dir, PkiError expectations, device keys and their CSRs.
import { spawnSync } from 'node:child_process';
import { generateKeyPair, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { PkiError } from '../../../src/pki/index.js';
import { x509 } from '../../../src/pki/x509-provider.js';

/** openssl runs openssl in dir and returns stdout and stderr together; a non-zero exit fails the test unless allowed. */
export function openssl(args: string[], dir: string, opts: { allowFailure?: boolean } = {}): { status: number; output: string } {
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0 && !opts.allowFailure) {
    throw new Error(`openssl ${args.join(' ')} failed (${run.status}):\n${output}`);
  }
  return { status: run.status ?? -1, output };
}

/** TempDir is a scratch directory with files written by name. */
export interface TempDir {
  path: string;
  write(name: string, content: string | Uint8Array): Promise<void>;
  remove(): Promise<void>;
}

/** makeTempDir creates a scratch directory under the OS temp dir. */
export async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `certfleet-pki-${prefix}-`));
  return {
    path,
    write: (name, content) => writeFile(join(path, name), content),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** expectPkiError awaits action and checks it failed with a PkiError of the given code. */
export async function expectPkiError(action: Promise<unknown> | (() => unknown), code: PkiError['code']): Promise<PkiError> {
  let caught: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a PkiError ${code}`).toBeInstanceOf(PkiError);
  expect((caught as PkiError).code, (caught as PkiError).message).toBe(code);
  return caught as PkiError;
}

/** DeviceKeyKind is a key an agent may enroll with. */
export type DeviceKeyKind = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'EC-P256' | 'EC-P384';

/** DeviceKey is a node:crypto key pair with a way to make PKCS#10 requests for it. */
export interface DeviceKey {
  kind: DeviceKeyKind;
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Buffer;
  /** csrPem makes a request for this key, signed by it (or by signer, to fake a missing proof of possession). */
  csrPem(name: x509.JsonNameParams | string, opts?: { signer?: DeviceKey; hash?: string; pss?: boolean }): Promise<string>;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** makeDeviceKey generates a key with node:crypto, as an agent would. */
export async function makeDeviceKey(kind: DeviceKeyKind): Promise<DeviceKey> {
  const pair = kind.startsWith('RSA')
    ? await generateKeyPairAsync('rsa', { modulusLength: Number(kind.slice(4)) })
    : await generateKeyPairAsync('ec', { namedCurve: kind === 'EC-P256' ? 'P-256' : 'P-384' });
  const key: DeviceKey = {
    kind,
    ...pair,
    spki: pair.publicKey.export({ type: 'spki', format: 'der' }),
    async csrPem(name, opts = {}) {
      const signer = opts.signer ?? key;
      const hash = opts.hash ?? (kind === 'EC-P384' ? 'SHA-384' : 'SHA-256');
      const algorithm = kind.startsWith('RSA')
        ? { name: opts.pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash }
        : { name: 'ECDSA', namedCurve: kind === 'EC-P256' ? 'P-256' : 'P-384' };
      const privateKey = await webcrypto.subtle.importKey(
        'pkcs8',
        signer.privateKey.export({ type: 'pkcs8', format: 'der' }),
        signer.kind.startsWith('RSA') ? { name: opts.pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash } : { name: 'ECDSA', namedCurve: signer.kind === 'EC-P256' ? 'P-256' : 'P-384' },
        false,
        ['sign'],
      );
      const publicKey = await webcrypto.subtle.importKey('spki', key.spki, algorithm, true, ['verify']);
      const signingAlgorithm = signer.kind.startsWith('RSA')
        ? opts.pss
          ? { name: 'RSA-PSS', hash, saltLength: 32 }
          : { name: 'RSASSA-PKCS1-v1_5', hash }
        : { name: 'ECDSA', hash };
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: typeof name === 'string' ? name : (name as x509.JsonName),
        keys: { privateKey, publicKey },
        signingAlgorithm,
      });
      return csr.toString('pem');
    },
  };
  return key;
}

/** cn is a subject name of CN values (one RDN each), as UTF8Strings. */
export function cn(...values: string[]): x509.JsonNameParams {
  return values.map((value) => ({ CN: [{ utf8String: value }] }));
}

/** derOf reads the DER out of a single-block PEM. */
export function derOf(pem: string): Buffer {
  return Buffer.from(x509.PemConverter.decodeFirst(pem));
}
