import { createCipheriv, createDecipheriv, randomBytes, scryptSync, type ScryptOptions } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, mkdir, open, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PkiError } from './errors.js';

/**
 * KeyProtector seals the CA private key, and other secrets, for storage in the database and opens them again.
 * The purpose (default DEFAULT_SEAL_PURPOSE, the CA key) is bound into the AAD as `certfleet:<purpose>:v1`,
 * so a value sealed for one purpose cannot be opened as another. Failing to open the CA key is
 * CA_KEY_UNREADABLE; failing to open a secret of any other purpose is SECRET_UNREADABLE.
 */
export interface KeyProtector {
  readonly source: 'passphrase' | 'key-file';
  seal(plaintext: Buffer | string, purpose?: string): string;
  open(sealed: string, purpose?: string): Buffer;
}

/** DEFAULT_SEAL_PURPOSE is the purpose of the CA private key, the one sealed before purposes existed. */
export const DEFAULT_SEAL_PURPOSE = 'ca-private-key';

/** KeyProtectorOptions: a passphrase (from CA_KEY_PASSPHRASE) wins; without one, a key file in dataDir is used. */
export interface KeyProtectorOptions {
  passphrase?: string;
  dataDir: string;
}

/** keyFileName is the file in dataDir that holds the key-encryption key when no passphrase is configured. */
export const keyFileName = 'ca-key-encryption.key';

const FORMAT_VERSION = 'cfk1';
// Lower-case words and dashes only: a ':' could make two purposes share an AAD.
const PURPOSE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_PURPOSE_LENGTH = 64;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
// N=2^15, r=8 needs 128*N*r = 32 MiB, exactly Node's default maxmem, which Node then refuses; allow headroom.
const SCRYPT_OPTIONS: ScryptOptions = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
// Sealed strings come from our own database, so few salts are ever seen; the bound only stops a runaway.
const MAX_CACHED_SALTS = 16;

/** loadKeyProtector returns the protector for this server: passphrase-derived if one is set, else the key file (created on first start). */
export async function loadKeyProtector(opts: KeyProtectorOptions): Promise<KeyProtector> {
  const keyFilePath = join(opts.dataDir, keyFileName);
  const hint = `check CA_KEY_PASSPHRASE, or the key file ${keyFilePath}`;
  // config.ts already maps an empty CA_KEY_PASSPHRASE to "unset"; do the same for other callers.
  if (opts.passphrase !== undefined && opts.passphrase !== '') {
    return new PassphraseProtector(opts.passphrase, hint);
  }
  const key = await loadOrCreateKeyFile(opts.dataDir, keyFilePath);
  return new KeyFileProtector(key, hint);
}

interface SealedParts {
  source: KeyProtector['source'];
  salt: Buffer | undefined;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

abstract class AesGcmProtector implements KeyProtector {
  abstract readonly source: KeyProtector['source'];

  constructor(private readonly hint: string) {}

  protected abstract sealingKey(): { key: Buffer; salt: Buffer | undefined };
  protected abstract openingKey(salt: Buffer | undefined): Buffer;

  seal(plaintext: Buffer | string, purpose = DEFAULT_SEAL_PURPOSE): string {
    const aad = aadFor(purpose);
    const { key, salt } = this.sealingKey();
    // A fresh IV per seal keeps GCM safe even though one key (and salt) serves many seals.
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      FORMAT_VERSION,
      this.source,
      salt ? salt.toString('base64url') : '-',
      iv.toString('base64url'),
      tag.toString('base64url'),
      ciphertext.toString('base64url'),
    ].join('.');
  }

  open(sealed: string, purpose = DEFAULT_SEAL_PURPOSE): Buffer {
    const aad = aadFor(purpose);
    const parts = this.parse(sealed, purpose);
    if (parts.source !== this.source) {
      const why =
        parts.source === 'passphrase'
          ? 'it was sealed with a passphrase, and CA_KEY_PASSPHRASE is not set'
          : 'it was sealed with the key file, and CA_KEY_PASSPHRASE is set';
      throw this.unreadable(purpose, why);
    }
    const key = this.openingKey(parts.salt);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_LENGTH });
      decipher.setAAD(aad);
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
    } catch {
      // GCM cannot tell a wrong key from altered data or another purpose; the operator checks all three.
      throw this.unreadable(
        purpose,
        this.source === 'passphrase'
          ? 'wrong passphrase, the stored value was altered, or it was sealed for another purpose'
          : 'wrong key file, the stored value was altered, or it was sealed for another purpose',
      );
    }
  }

  // Parses strictly so a damaged value fails here, with a clear message, rather than inside the cipher.
  private parse(sealed: string, purpose: string): SealedParts {
    const fields = typeof sealed === 'string' ? sealed.trim().split('.') : [];
    if (fields.length !== 6 || fields[0] !== FORMAT_VERSION) {
      throw this.unreadable(purpose, `the stored value is not in the ${FORMAT_VERSION} format`);
    }
    const [, source, saltText, ivText, tagText, ciphertextText] = fields;
    if (source !== 'passphrase' && source !== 'key-file') {
      throw this.unreadable(purpose, 'the stored value names an unknown protection');
    }
    const salt = saltText === '-' ? undefined : decodeField(saltText);
    const iv = decodeField(ivText);
    const tag = decodeField(tagText);
    // An empty ciphertext is legal (an empty plaintext); the tag still authenticates it.
    const ciphertext = ciphertextText === '' ? Buffer.alloc(0) : decodeField(ciphertextText);
    const saltOk = source === 'passphrase' ? salt?.length === SALT_LENGTH : salt === undefined;
    if (!saltOk || iv?.length !== IV_LENGTH || tag?.length !== TAG_LENGTH || !ciphertext) {
      throw this.unreadable(purpose, 'the stored value is damaged');
    }
    return { source, salt, iv, tag, ciphertext };
  }

  // Messages name what to check and never echo the sealed value, key material or the passphrase.
  private unreadable(purpose: string, why: string): PkiError {
    return purpose === DEFAULT_SEAL_PURPOSE
      ? new PkiError('CA_KEY_UNREADABLE', `cannot decrypt the CA private key: ${this.hint} (${why})`)
      : new PkiError('SECRET_UNREADABLE', `cannot decrypt the sealed ${purpose}: ${this.hint} (${why})`);
  }
}

class PassphraseProtector extends AesGcmProtector {
  readonly source = 'passphrase' as const;
  private readonly keysBySalt = new Map<string, Buffer>();
  private ownSalt: Buffer | undefined;

  constructor(
    private readonly passphrase: string,
    hint: string,
  ) {
    super(hint);
  }

  // One salt per protector: seals stay cheap, and random IVs keep them distinct.
  protected sealingKey(): { key: Buffer; salt: Buffer } {
    this.ownSalt ??= randomBytes(SALT_LENGTH);
    return { key: this.keyFor(this.ownSalt), salt: this.ownSalt };
  }

  protected openingKey(salt: Buffer | undefined): Buffer {
    return this.keyFor(salt as Buffer);
  }

  // scrypt is deliberately slow (~0.1 s); derive once per salt. Synchronous because seal/open are, and
  // they run at start-up or on a rare CA rotation, not per request.
  private keyFor(salt: Buffer): Buffer {
    const id = salt.toString('base64url');
    let key = this.keysBySalt.get(id);
    if (!key) {
      key = scryptSync(this.passphrase.normalize('NFC'), salt, KEY_LENGTH, SCRYPT_OPTIONS);
      if (this.keysBySalt.size >= MAX_CACHED_SALTS) {
        this.keysBySalt.clear();
      }
      this.keysBySalt.set(id, key);
    }
    return key;
  }
}

class KeyFileProtector extends AesGcmProtector {
  readonly source = 'key-file' as const;

  constructor(
    private readonly key: Buffer,
    hint: string,
  ) {
    super(hint);
  }

  protected sealingKey(): { key: Buffer; salt: undefined } {
    return { key: this.key, salt: undefined };
  }

  protected openingKey(): Buffer {
    return this.key;
  }
}

async function loadOrCreateKeyFile(dataDir: string, keyFilePath: string): Promise<Buffer> {
  try {
    return await readKeyFile(keyFilePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err;
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await createKeyFileOnce(keyFilePath);
  return readKeyFile(keyFilePath);
}

// The key is written to a private temporary file, then hard-linked into place: link() fails with EEXIST
// like open('wx'), but the file appears whole, so a process starting alongside never reads a half-written key.
async function createKeyFileOnce(keyFilePath: string): Promise<void> {
  const tempPath = `${keyFilePath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tempPath, 'wx', 0o600);
  try {
    await writeFile(handle, randomBytes(KEY_LENGTH));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tempPath, keyFilePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw err;
    }
    // Another process (or an earlier start) made the key file first: that one is the key.
  } finally {
    await unlink(tempPath).catch(() => undefined);
  }
}

async function readKeyFile(keyFilePath: string): Promise<Buffer> {
  // Check the opened handle, not the path, so the file inspected is the file read.
  const handle = await open(keyFilePath, fsConstants.O_RDONLY);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new PkiError('KEY_FILE_INVALID', `the CA key-encryption key file ${keyFilePath} is not a regular file`);
    }
    // POSIX permission bits mean nothing on Windows, where the data directory's ACL protects the file.
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new PkiError(
        'KEY_FILE_INSECURE',
        `the CA key-encryption key file ${keyFilePath} is accessible to other users (mode ${(stat.mode & 0o777)
          .toString(8)
          .padStart(3, '0')}); run: chmod 600 ${keyFilePath}`,
      );
    }
    if (stat.size !== KEY_LENGTH) {
      throw new PkiError(
        'KEY_FILE_INVALID',
        `the CA key-encryption key file ${keyFilePath} must hold exactly ${KEY_LENGTH} bytes (found ${stat.size}); restore it from backup`,
      );
    }
    const key = Buffer.alloc(KEY_LENGTH);
    const { bytesRead } = await handle.read(key, 0, KEY_LENGTH, 0);
    if (bytesRead !== KEY_LENGTH) {
      throw new PkiError('KEY_FILE_INVALID', `the CA key-encryption key file ${keyFilePath} could not be read whole`);
    }
    return key;
  } finally {
    await handle.close();
  }
}

function decodeField(text: string): Buffer | undefined {
  // Buffer.from(…, 'base64url') skips bad characters silently; insist on the exact alphabet instead.
  return /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url') : undefined;
}

function aadFor(purpose: string): Buffer {
  if (typeof purpose !== 'string' || purpose.length > MAX_PURPOSE_LENGTH || !PURPOSE.test(purpose)) {
    throw new RangeError(`a seal purpose is lower-case words joined by '-', at most ${MAX_PURPOSE_LENGTH} characters`);
  }
  return Buffer.from(`certfleet:${purpose}:v1`, 'ascii');
}
