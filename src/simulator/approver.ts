import type { AdminApi } from './admin-api.js';
import { SimulationError } from './errors.js';

/** Approver is the admin's side of approval, shared by all agents of a run. */
export interface Approver {
  /** approve resolves once the request is approved, or rejects with why it was not. */
  approve(requestId: string): Promise<void>;
  stats(): { calls: number; largest: number };
  close(): void;
}

/**
 * createApprover is the admin script: it gathers request ids and approves them with one approveClients
 * call per batch, one call at a time; a batch goes out when full or when its first id has waited waitMs.
 */
export function createApprover(api: AdminApi, batchSize: number, waitMs: number): Approver {
  const queue: { id: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let calls = 0;
  let largest = 0;

  const kick = () => {
    if (running || queue.length === 0) return;
    if (queue.length >= batchSize) {
      void flush();
    } else if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        void flush();
      }, waitMs);
    }
  };

  async function flush(): Promise<void> {
    if (running || queue.length === 0) return;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    running = true;
    const batch = queue.splice(0, batchSize);
    calls++;
    largest = Math.max(largest, batch.length);
    try {
      const { approved, failed } = await api.approveClients(batch.map((b) => b.id));
      const ok = new Set(approved);
      const why = new Map(failed.map((f) => [f.id, f]));
      for (const b of batch) {
        if (ok.has(b.id)) {
          b.resolve();
        } else {
          const f = why.get(b.id);
          b.reject(new SimulationError(`approve: ${f?.code ?? 'missing'}`, f ? `request ${b.id}: ${f.message}` : `request ${b.id} is neither approved nor failed in the answer`));
        }
      }
    } catch (err) {
      for (const b of batch) b.reject(err as Error);
    } finally {
      running = false;
      kick();
    }
  }

  return {
    approve(id) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ id, resolve, reject });
        kick();
      });
    },
    stats: () => ({ calls, largest }),
    close() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
