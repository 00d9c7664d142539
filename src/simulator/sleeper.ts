// An abortable sleep, shared by the simulation's agents and the fault run's load loop.
/** createSleeper gives a sleep that an abort ends early, with one abort listener for all sleepers. */
export function createSleeper(signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  const wakers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of wakers) wake();
  };
  signal?.addEventListener('abort', wakeAll, { once: true });
  return (ms) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
}
