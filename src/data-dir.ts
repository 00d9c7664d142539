import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';

// What the core writes in DATA_DIR and keeps private by tightening. The CA key-encryption key file is
// left out on purpose: the pki refuses it when others may read it (KEY_FILE_INSECURE), because a key
// that was exposed needs replacing, and a quiet chmod would hide that it was.
const CORE_ENTRIES = ['pgdata', 'jwt-signing-key.pem'];

/**
 * secureDataDir makes what the core writes in dataDir private to the user it runs as: from now on
 * (process umask 077) new files are 0600 and directories 0700, and DATA_DIR itself, the embedded
 * database's files and the token signing key, left open by an older version or by PGlite (which sets
 * the modes of the files it unpacks itself), lose their group and other bits. It returns the paths
 * it tightened. On Windows, where modes mean little, the directory's ACL protects it instead.
 */
export async function secureDataDir(dataDir: string): Promise<string[]> {
  if (process.platform === 'win32') {
    await mkdir(dataDir, { recursive: true });
    return [];
  }
  process.umask(0o077);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const tightened: string[] = [];
  // DATA_DIR itself may be a symbolic link the operator made: its target is what needs protecting.
  await tighten(dataDir, await stat(dataDir), false, tightened);
  for (const name of CORE_ENTRIES) await tightenTree(join(dataDir, name), tightened);
  return tightened;
}

// Symbolic links are never followed below DATA_DIR: a link planted there must not make the core chmod
// files elsewhere. Entries that vanish meanwhile (PGlite may be running) are skipped.
async function tightenTree(path: string, tightened: string[]): Promise<void> {
  const info = await lstat(path).catch(ignoreMissing);
  if (!info || info.isSymbolicLink()) return;
  await tighten(path, info, true, tightened);
  if (!info.isDirectory()) return;
  const names = (await readdir(path).catch(ignoreMissing)) ?? [];
  for (const name of names) await tightenTree(join(path, name), tightened);
}

async function tighten(path: string, info: Stats, recursed: boolean, tightened: string[]): Promise<void> {
  if ((info.mode & 0o077) === 0 || !(info.isFile() || info.isDirectory())) return;
  const done = await chmod(path, info.mode & 0o700).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (recursed && err.code === 'ENOENT') return false;
      throw err;
    },
  );
  if (done) tightened.push(path);
}

function ignoreMissing(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}
