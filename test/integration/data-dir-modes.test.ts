import { chmod, lstat, readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startCore, type CoreHandle } from '../../src/main.js';
import { keyFileName } from '../../src/pki/key-protection.js';
import { RegisterDevicesDocument, SetSecureDataDocument } from '../generated/graphql.js';
import { databaseKind, startTestCore, type TestCore } from '../support/test-core.js';
import { logsWith } from '../support/logs.js';

interface Entry {
  path: string;
  mode: number;
  directory: boolean;
}

/** walk lists DATA_DIR itself and everything below it, with permission bits, without following links. */
async function walk(root: string): Promise<Entry[]> {
  const entries: Entry[] = [{ path: '.', mode: (await stat(root)).mode & 0o777, directory: true }];
  const visit = async (dir: string) => {
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await lstat(path);
      entries.push({ path: relative(root, path), mode: info.mode & 0o777, directory: info.isDirectory() });
      if (info.isDirectory()) await visit(path);
    }
  };
  await visit(root);
  return entries;
}

/** notPrivate lists what is not 0600 (files) or 0700 (directories), as "path mode", for a readable failure. */
function notPrivate(entries: Entry[]): string[] {
  return entries
    .filter((e) => e.mode !== (e.directory ? 0o700 : 0o600))
    .map((e) => `${e.path} ${e.mode.toString(8)}`);
}

const posix = process.platform !== 'win32';

describe.skipIf(databaseKind() !== 'embedded' || !posix)(
  "the embedded database's DATA_DIR is private: files 0600, directories 0700 (skipped with DATABASE_URL set, or on Windows, where the directory's ACL protects it)",
  () => {
    let tc: TestCore;
    let core: CoreHandle | undefined;
    let dataDir: string;
    const logs: string[] = [];
    const log = createLogger('debug', (line) => logs.push(line));

    beforeAll(async () => {
      // persistent: PGlite creates its files in DATA_DIR/pgdata, as on a first `npm start`.
      tc = await startTestCore({ persistent: true });
      dataDir = tc.config.dataDir;
    });
    afterAll(async () => {
      await core?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('after a first start and some writes, nothing in DATA_DIR is open to group or others', async () => {
      const admin = await tc.token('alice', ['SECURITY_ADMIN']);
      const imported = await tc.gql(
        RegisterDevicesDocument,
        { devices: Array.from({ length: 50 }, (_, i) => ({ name: `MODE-${i}`, agentId: `mode-${i}`, agentVersion: '2024.1' })) },
        admin,
      );
      expect(imported.errors).toBeUndefined();
      expect((await tc.gql(SetSecureDataDocument, { name: 'wifi', value: 'not for other users' }, admin)).errors).toBeUndefined();

      const entries = await walk(dataDir);
      const paths = entries.map((e) => e.path);
      // What the core writes there: the database, the CA key-encryption key, the token signing key.
      expect(paths).toEqual(expect.arrayContaining(['pgdata', join('pgdata', 'PG_VERSION'), keyFileName, 'jwt-signing-key.pem']));
      expect(entries.filter((e) => !e.directory).length).toBeGreaterThan(500);
      expect(notPrivate(entries)).toEqual([]);
    });

    it('a DATA_DIR an older version left open (0666 files, 0755 directories) is tightened at start', async () => {
      await tc.core.close();
      for (const e of await walk(dataDir)) {
        // Older versions wrote the CA key-encryption key 0600 too; it keeps a check of its own (below).
        if (e.path === keyFileName) continue;
        await chmod(join(dataDir, e.path), e.directory ? 0o755 : 0o666);
      }
      expect(notPrivate(await walk(dataDir)).length).toBeGreaterThan(500);

      core = await startCore(tc.config, { log });
      expect(notPrivate(await walk(dataDir))).toEqual([]);
      expect(logsWith(logs, 'open to other users and are now private', 'warn')).toHaveLength(1);
      // The same data, opened again.
      const summary = await core.services.security.readSummary();
      expect(summary.total).toBe(51);
    });

    it('a CA key-encryption key file readable by others is refused, not quietly tightened: it may have been read', async () => {
      await core!.close();
      core = undefined;
      const keyFile = join(dataDir, keyFileName);
      await chmod(keyFile, 0o644);
      await expect(startCore(tc.config, { log })).rejects.toMatchObject({ code: 'KEY_FILE_INSECURE' });
      expect((await stat(keyFile)).mode & 0o777).toBe(0o644);

      await chmod(keyFile, 0o600);
      core = await startCore(tc.config, { log });
      expect((await core.services.security.readSummary()).total).toBe(51);
      expect(notPrivate(await walk(dataDir))).toEqual([]);
    });
  },
);
