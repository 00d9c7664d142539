import * as nodeCrypto from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SEAL_PURPOSE, keyFileName, loadKeyProtector, PkiError, type KeyProtector } from '../../../src/pki/index.js';

// Count scrypt derivations without changing them, to prove the per-salt cache.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, scryptSync: vi.fn(actual.scryptSync) };
});

const PASSPHRASE = 'correct horse battery staple';
const PLAINTEXT = Buffer.from('-----fake PKCS#8 CA private key, recognisable in any encoding-----');
const posixOnly = process.platform === 'win32' ? it.skip : it;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certfleet-pki-keys-'));
  vi.mocked(nodeCrypto.scryptSync).mockClear();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectPkiError(action: () => unknown, code: PkiError['code']): Promise<PkiError> {
  let caught: unknown;
  try {
    await action();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PkiError);
  expect((caught as PkiError).code).toBe(code);
  return caught as PkiError;
}

// Flips one bit inside a decoded field, so the change is real (editing a base64 character may only touch padding bits).
function tamper(sealed: string, field: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[field], 'base64url');
  bytes[bytes.length - 1] ^= 0x01;
  parts[field] = bytes.toString('base64url');
  return parts.join('.');
}

const sources = [
  { source: 'passphrase', load: () => loadKeyProtector({ passphrase: PASSPHRASE, dataDir: dir }) },
  { source: 'key-file', load: () => loadKeyProtector({ dataDir: dir }) },
] as const;

describe.each(sources)('loadKeyProtector with source $source', ({ source, load }) => {
  it('reports its source', async () => {
    expect((await load()).source).toBe(source);
  });

  it('opens what it sealed', async () => {
    const protector = await load();
    expect(protector.open(protector.seal(PLAINTEXT))).toEqual(PLAINTEXT);
  });

  it('opens what another protector loaded the same way sealed (nothing lives only in memory)', async () => {
    const sealed = (await load()).seal(PLAINTEXT);
    expect((await load()).open(sealed)).toEqual(PLAINTEXT);
  });

  it('seals to a versioned ASCII string naming its source, different each time', async () => {
    const protector = await load();
    const first = protector.seal(PLAINTEXT);
    const second = protector.seal(PLAINTEXT);
    expect(first).toMatch(new RegExp(`^cfk1\\.${source}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(first).not.toBe(second);
    expect(protector.open(second)).toEqual(PLAINTEXT);
  });

  it('round-trips an empty and a large plaintext', async () => {
    const protector = await load();
    const large = nodeCrypto.randomBytes(64 * 1024);
    expect(protector.open(protector.seal(large))).toEqual(large);
    expect(protector.open(protector.seal(Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });
});

describe('the sealed format', () => {
  it('decrypts from its documented parts alone (scrypt N=2^15 r=8 p=1, AES-256-GCM, fixed AAD)', async () => {
    const sealed = (await loadKeyProtector({ passphrase: PASSPHRASE, dataDir: dir })).seal(PLAINTEXT);
    const [version, source, salt, iv, tag, ciphertext] = sealed.split('.');
    expect([version, source]).toEqual(['cfk1', 'passphrase']);
    expect(Buffer.from(salt, 'base64url')).toHaveLength(16);
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    const key = nodeCrypto.scryptSync(PASSPHRASE, Buffer.from(salt, 'base64url'), 32, {
      N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024,
    });
    const decipher = nodeCrypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from('certfleet:ca-private-key:v1'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    expect(plaintext).toEqual(PLAINTEXT);
  });

  it('marks the key-file source with no salt', async () => {
    const sealed = (await loadKeyProtector({ dataDir: dir })).seal(PLAINTEXT);
    expect(sealed.split('.').slice(0, 3)).toEqual(['cfk1', 'key-file', '-']);
  });
});

describe('passphrase key derivation', () => {
  it('derives once per salt: seal then open costs one scrypt run', async () => {
    const protector = await loadKeyProtector({ passphrase: PASSPHRASE, dataDir: dir });
    const sealed = protector.seal(PLAINTEXT);
    protector.open(sealed);
    protector.open(protector.seal(PLAINTEXT));
    expect(nodeCrypto.scryptSync).toHaveBeenCalledTimes(1);
  });

  it('derives again for a salt it has not seen', async () => {
    const sealed = (await loadKeyProtector({ passphrase: PASSPHRASE, dataDir: dir })).seal(PLAINTEXT);
    const reader = await loadKeyProtector({ passphrase: PASSPHRASE, dataDir: dir });
    reader.open(sealed);
    reader.open(sealed);
    expect(nodeCrypto.scryptSync).toHaveBeenCalledTimes(2);
  });

  it('treats an empty passphrase as none and uses the key file', async () => {
    expect((await loadKeyProtector({ passphrase: '', dataDir: dir })).source).toBe('key-file');
  });
});

describe('open refuses what it cannot trust, with CA_KEY_UNREADABLE and a message that leaks nothing', () => {
  type Case = { proves: string; reader: () => Promise<KeyProtector>; sealed: (fromPassphrase: string, fromKeyFile: string) => string };
  const otherDir = () => join(dir, 'other');
  const byPassphrase = () => loadKeyProtector({ passphrase: PASSPHRASE, dataDir: dir });
  const byKeyFile = () => loadKeyProtector({ dataDir: dir });

  const cases: Case[] = [
    { proves: 'a wrong passphrase', reader: () => loadKeyProtector({ passphrase: 'not the passphrase!', dataDir: dir }), sealed: (p) => p },
    { proves: 'another key file', reader: () => loadKeyProtector({ dataDir: otherDir() }), sealed: (_p, k) => k },
    { proves: 'tampered ciphertext (passphrase)', reader: byPassphrase, sealed: (p) => tamper(p, 5) },
    { proves: 'tampered ciphertext (key file)', reader: byKeyFile, sealed: (_p, k) => tamper(k, 5) },
    { proves: 'a tampered tag', reader: byKeyFile, sealed: (_p, k) => tamper(k, 4) },
    { proves: 'a tampered IV', reader: byKeyFile, sealed: (_p, k) => tamper(k, 3) },
    { proves: 'a tampered salt', reader: byPassphrase, sealed: (p) => tamper(p, 2) },
    { proves: 'a passphrase-sealed string read with the key file', reader: byKeyFile, sealed: (p) => p },
    { proves: 'a key-file-sealed string read with a passphrase', reader: byPassphrase, sealed: (_p, k) => k },
    { proves: 'a relabelled source', reader: byPassphrase, sealed: (_p, k) => k.replace('.key-file.', '.passphrase.') },
    { proves: 'a truncated string', reader: byKeyFile, sealed: (_p, k) => k.slice(0, k.lastIndexOf('.')) },
    { proves: 'an unknown version', reader: byKeyFile, sealed: (_p, k) => k.replace(/^cfk1/, 'cfk9') },
    { proves: 'characters outside base64url', reader: byKeyFile, sealed: (_p, k) => `${k.slice(0, -1)}*` },
    { proves: 'an empty string', reader: byKeyFile, sealed: () => '' },
  ];

  it.each(cases)('$proves', async ({ reader, sealed }) => {
    const fromPassphrase = (await byPassphrase()).seal(PLAINTEXT);
    const fromKeyFile = (await byKeyFile()).seal(PLAINTEXT);
    const input = sealed(fromPassphrase, fromKeyFile);
    const protector = await reader();

    const err = await expectPkiError(() => protector.open(input), 'CA_KEY_UNREADABLE');

    expect(err.message).toContain('cannot decrypt the CA private key: check CA_KEY_PASSPHRASE, or the key file');
    expect(err.message).toContain(keyFileName);
    const secrets = [
      PASSPHRASE,
      'not the passphrase!',
      PLAINTEXT.toString('utf8'),
      PLAINTEXT.toString('base64'),
      PLAINTEXT.toString('base64url'),
      PLAINTEXT.toString('hex'),
      ...[fromPassphrase, fromKeyFile, input].flatMap((s) => s.split('.').slice(2)).filter((part) => part.length > 4),
    ];
    for (const secret of secrets) {
      expect(err.message).not.toContain(secret);
    }
  });
});

describe('the key file', () => {
  const keyPath = () => join(dir, keyFileName);

  posixOnly('is created with mode 0600 and 32 bytes, in a data directory made on demand', async () => {
    const dataDir = join(dir, 'nested', 'data');
    await loadKeyProtector({ dataDir });
    const info = await stat(join(dataDir, keyFileName));
    expect(info.mode & 0o777).toBe(0o600);
    expect(info.size).toBe(32);
  });

  it('is reused, not replaced, on the next start', async () => {
    const sealed = (await loadKeyProtector({ dataDir: dir })).seal(PLAINTEXT);
    const before = await stat(keyPath());
    const again = await loadKeyProtector({ dataDir: dir });
    expect((await stat(keyPath())).ino).toBe(before.ino);
    expect(again.open(sealed)).toEqual(PLAINTEXT);
  });

  it('is not created when a passphrase is set', async () => {
    await loadKeyProtector({ passphrase: PASSPHRASE, dataDir: dir });
    expect(await readdir(dir)).toEqual([]);
  });

  posixOnly.each([
    ['644', 0o644],
    ['640', 0o640],
    ['604', 0o604],
    ['660', 0o660],
  ])('with mode %s is refused as KEY_FILE_INSECURE', async (_label, mode) => {
    await loadKeyProtector({ dataDir: dir });
    await chmod(keyPath(), mode);
    const err = await expectPkiError(() => loadKeyProtector({ dataDir: dir }), 'KEY_FILE_INSECURE');
    expect(err.message).toContain(keyPath());
    expect(err.message).toContain('chmod 600');
  });

  it.each([
    ['empty', 0],
    ['one byte short', 31],
    ['one byte long', 33],
  ])('that is %s is refused as KEY_FILE_INVALID', async (_what, length) => {
    await writeFile(keyPath(), nodeCrypto.randomBytes(length), { mode: 0o600 });
    const err = await expectPkiError(() => loadKeyProtector({ dataDir: dir }), 'KEY_FILE_INVALID');
    expect(err.message).toContain(keyPath());
  });

  it('is made once when several starts race on a fresh directory: every protector opens the others\' seals', async () => {
    const dataDir = join(dir, 'fresh');
    const protectors = await Promise.all(Array.from({ length: 4 }, () => loadKeyProtector({ dataDir })));
    for (const sealer of protectors) {
      const sealed = sealer.seal(PLAINTEXT);
      for (const opener of protectors) {
        expect(opener.open(sealed)).toEqual(PLAINTEXT);
      }
    }
    // No temporary files are left behind by the losers of the race.
    expect(await readdir(dataDir)).toEqual([keyFileName]);
  });
});

describe.each(sources)('sealing other secrets by purpose, with source $source', ({ load }) => {
  it('opens a secret with the purpose it was sealed for', async () => {
    const protector = await load();
    expect(protector.open(protector.seal(PLAINTEXT, 'jwt-signing-key'), 'jwt-signing-key')).toEqual(PLAINTEXT);
  });

  it('seals a string as its UTF-8 bytes', async () => {
    const protector = await load();
    expect(protector.open(protector.seal('pässwörd', 'secure-data-0a1b'), 'secure-data-0a1b').toString('utf8')).toBe('pässwörd');
  });

  it('treats no purpose as the CA key purpose, both ways', async () => {
    const protector = await load();
    expect(protector.open(protector.seal(PLAINTEXT), DEFAULT_SEAL_PURPOSE)).toEqual(PLAINTEXT);
    expect(protector.open(protector.seal(PLAINTEXT, DEFAULT_SEAL_PURPOSE))).toEqual(PLAINTEXT);
  });

  it.each([
    ['the CA key opened as a secret: SECRET_UNREADABLE', undefined, 'jwt-signing-key', 'SECRET_UNREADABLE', 'cannot decrypt the sealed jwt-signing-key: '],
    ['a secret opened as the CA key: CA_KEY_UNREADABLE', 'jwt-signing-key', undefined, 'CA_KEY_UNREADABLE', 'cannot decrypt the CA private key: '],
    ['a secret opened as another secret: SECRET_UNREADABLE', 'secure-data-aa', 'secure-data-ab', 'SECRET_UNREADABLE', 'cannot decrypt the sealed secure-data-ab: '],
  ] as const)('refuses %s', async (_what, sealedFor, openedAs, code, prefix) => {
    const protector = await load();
    const err = await expectPkiError(() => protector.open(protector.seal(PLAINTEXT, sealedFor), openedAs), code);
    expect(err.message).toMatch(new RegExp(`^${prefix}.*sealed for another purpose`));
    expect(err.message).not.toContain(PLAINTEXT.toString('utf8'));
  });

  it.each([
    ['empty', ''],
    ['upper case', 'JWT'],
    ['with a colon, which could collide with another AAD', 'a:b'],
    ['with a leading dash', '-key'],
    ['longer than 64 characters', 'k'.repeat(65)],
  ])('refuses a purpose that is %s with a RangeError', async (_what, purpose) => {
    const protector = await load();
    expect(() => protector.seal(PLAINTEXT, purpose)).toThrow(RangeError);
    expect(() => protector.open(protector.seal(PLAINTEXT), purpose)).toThrow(RangeError);
  });
});

describe('the purpose in the sealed format', () => {
  function sealByHand(key: Buffer, aad: string): string {
    const iv = nodeCrypto.randomBytes(12);
    const cipher = nodeCrypto.createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad));
    const ciphertext = Buffer.concat([cipher.update(PLAINTEXT), cipher.final()]);
    return ['cfk1', 'key-file', '-', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  it('opens a CA key sealed before purposes existed (AAD certfleet:ca-private-key:v1)', async () => {
    const protector = await loadKeyProtector({ dataDir: dir });
    const key = await readFile(join(dir, keyFileName));
    expect(protector.open(sealByHand(key, 'certfleet:ca-private-key:v1'))).toEqual(PLAINTEXT);
  });

  it('binds the purpose as AAD certfleet:<purpose>:v1', async () => {
    const protector = await loadKeyProtector({ dataDir: dir });
    const key = await readFile(join(dir, keyFileName));
    expect(protector.open(sealByHand(key, 'certfleet:jwt-signing-key:v1'), 'jwt-signing-key')).toEqual(PLAINTEXT);
  });
});
