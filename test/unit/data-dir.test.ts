import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secureDataDir } from '../../src/data-dir.js';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe.skipIf(process.platform === 'win32')('secureDataDir', () => {
  let root: string;
  let dataDir: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'certfleet-datadir-'));
    dataDir = join(root, 'data');
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('creates DATA_DIR 0700, and what the process creates afterwards is private', async () => {
    expect(await secureDataDir(dataDir)).toEqual([]);
    expect(await modeOf(dataDir)).toBe(0o700);
    await writeFile(join(dataDir, 'later'), 'x');
    await mkdir(join(dataDir, 'later-dir'));
    expect([await modeOf(join(dataDir, 'later')), await modeOf(join(dataDir, 'later-dir'))]).toEqual([0o600, 0o700]);
  });

  it('tightens DATA_DIR, the embedded database and the token signing key, and says which', async () => {
    await mkdir(join(dataDir, 'pgdata', 'base'), { recursive: true, mode: 0o755 });
    await writeFile(join(dataDir, 'pgdata', 'base', '1'), 'x', { mode: 0o666 });
    await writeFile(join(dataDir, 'jwt-signing-key.pem'), 'x', { mode: 0o644 });
    await chmod(dataDir, 0o777);
    await chmod(join(dataDir, 'pgdata'), 0o755);
    await chmod(join(dataDir, 'pgdata', 'base'), 0o755);
    await chmod(join(dataDir, 'pgdata', 'base', '1'), 0o666);
    await chmod(join(dataDir, 'jwt-signing-key.pem'), 0o644);

    const tightened = await secureDataDir(dataDir);
    expect(tightened.sort()).toEqual(
      [dataDir, join(dataDir, 'pgdata'), join(dataDir, 'pgdata', 'base'), join(dataDir, 'pgdata', 'base', '1'), join(dataDir, 'jwt-signing-key.pem')].sort(),
    );
    expect(await modeOf(dataDir)).toBe(0o700);
    expect(await modeOf(join(dataDir, 'pgdata', 'base'))).toBe(0o700);
    expect(await modeOf(join(dataDir, 'pgdata', 'base', '1'))).toBe(0o600);
    expect(await modeOf(join(dataDir, 'jwt-signing-key.pem'))).toBe(0o600);
    expect(await secureDataDir(dataDir)).toEqual([]);
  });

  it('follows no link planted below DATA_DIR, and leaves the CA key file and files it did not write alone', async () => {
    const outside = join(root, 'outside');
    await writeFile(outside, 'x');
    await chmod(outside, 0o644);
    await mkdir(join(dataDir, 'pgdata'), { recursive: true });
    await symlink(outside, join(dataDir, 'pgdata', 'link'));
    await writeFile(join(dataDir, 'ca-key-encryption.key'), 'x');
    await chmod(join(dataDir, 'ca-key-encryption.key'), 0o644);
    await writeFile(join(dataDir, 'operator-notes.txt'), 'x');
    await chmod(join(dataDir, 'operator-notes.txt'), 0o644);

    await secureDataDir(dataDir);
    expect(await modeOf(outside)).toBe(0o644);
    // The pki refuses an exposed CA key file (KEY_FILE_INSECURE) instead.
    expect(await modeOf(join(dataDir, 'ca-key-encryption.key'))).toBe(0o644);
    expect(await modeOf(join(dataDir, 'operator-notes.txt'))).toBe(0o644);
    // DATA_DIR itself is 0700, so none of these is reachable by other users.
    expect(await modeOf(dataDir)).toBe(0o700);
  });
});
