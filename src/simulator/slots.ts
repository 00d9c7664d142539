/**
 * Slots bounds how many agents act at once. Waiters of a lower priority number go first, so an
 * agent that has come further (a connection after its approval) is not stuck behind new enrollments.
 */
export class Slots {
  private free: number;
  private readonly queues: (() => void)[][];
  private waiting = 0;

  constructor(size: number, priorities: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`slots must be a whole number of at least 1 (got ${size})`);
    this.free = size;
    this.queues = Array.from({ length: priorities }, () => []);
  }

  acquire(priority: number): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    this.waiting++;
    return new Promise<void>((resolve) => this.queues[priority]!.push(resolve));
  }

  release(): void {
    for (const queue of this.queues) {
      const next = queue.shift();
      if (next) {
        this.waiting--;
        next();
        return;
      }
    }
    this.free++;
  }

  /** run holds a slot while fn runs. */
  async run<T>(priority: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(priority);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  get queued(): number {
    return this.waiting;
  }
}
