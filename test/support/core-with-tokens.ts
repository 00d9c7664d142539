import { startTestCore, type TestCore } from './test-core.js';

/** CoreWithTokens is a started test core and the two callers most files act as. */
export interface CoreWithTokens {
  tc: TestCore;
  /** alice, a SECURITY_ADMIN. */
  admin: string;
  /** victor, a VIEWER. */
  viewer: string;
}

/**
 * startCoreWithTokens starts a test core (options as startTestCore's) and mints the tokens of an
 * admin and a viewer; the file's afterAll closes tc, after whatever else it opened on it.
 *   beforeAll(async () => ({ tc, admin, viewer } = await startCoreWithTokens()));
 */
export async function startCoreWithTokens(opts?: Parameters<typeof startTestCore>[0]): Promise<CoreWithTokens> {
  const tc = await startTestCore(opts);
  try {
    return { tc, admin: await tc.token('alice', ['SECURITY_ADMIN']), viewer: await tc.token('victor', ['VIEWER']) };
  } catch (err) {
    await tc.close();
    throw err;
  }
}
