import { describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/client.js';
import { createInProcessEventBus } from '../../../src/events/bus.js';
import { createLogger } from '../../../src/logger.js';
import { createConnectionService } from '../../../src/services/connection-service.js';
import { factsFor } from '../../support/seed.js';

// A database whose connection drops inside the transaction (after BEGIN), as during a restart;
// the first transaction waits on a gate so that later results join its batch.
function droppingDatabase() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let transactions = 0;
  const dropped = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  const tx = new Proxy({}, { get: () => () => { throw dropped(); } });
  const db = {
    async transaction(fn: (tx: unknown) => Promise<unknown>) {
      transactions++;
      if (transactions === 1) await gate;
      return fn(tx);
    },
  } as unknown as Db;
  return { db, open, transactions: () => transactions };
}

describe('group commit with the database away', () => {
  it('fails the whole batch at once instead of retrying each result alone', async () => {
    const database = droppingDatabase();
    const logs: string[] = [];
    const service = createConnectionService({
      db: database.db,
      bus: createInProcessEventBus(() => {}),
      clock: () => new Date(),
      log: createLogger('debug', (line) => logs.push(line)),
    });
    const results = ['agent-1', 'agent-2', 'agent-3'].map((agentId) =>
      service.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId, ...factsFor('succeeded', agentId) }).then(
        () => 'written',
        (err: { code?: string }) => err.code,
      ),
    );
    database.open();
    expect(await Promise.all(results)).toEqual(['ECONNRESET', 'ECONNRESET', 'ECONNRESET']);
    // One transaction held all three; none was tried again on its own.
    expect(database.transactions()).toBe(1);
    expect(logs.some((l) => l.includes('writing them one by one'))).toBe(false);
  });
});
