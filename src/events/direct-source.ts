/**
 * A direct source hands its values straight to one listener, with no promise per value: a live
 * summary push goes out to every dashboard of a replica in one pass, and a promise (and an await
 * in a suspended function) per dashboard and per push is what would otherwise cost the most,
 * both in time and in memory held by every idle dashboard. An async iterator that is also a
 * direct source serves either way; shared-execution.ts takes the direct way when it can.
 */
export const DIRECT = Symbol.for('certfleet.directSource');

export interface DirectListener<T> {
  /** Whether it takes a value now. While it does not, the source keeps what comes by its own rules. */
  readonly ready: boolean;
  /** value is called, synchronously, with each value while ready. It must not throw. */
  value(value: T): void;
  /** end is called once when the source ends (with the error when it fails). */
  end(error?: unknown): void;
}

export interface DirectSource<T> {
  /** Attaches the one listener: what the source holds already is delivered at once if it is ready. */
  [DIRECT](listener: DirectListener<T>): void;
  /** resumeDirect delivers what the source kept while its listener was not ready (call it once ready again). */
  resumeDirect(): void;
}

export function isDirectSource<T>(value: unknown): value is DirectSource<T> {
  return typeof (value as Partial<DirectSource<T>> | null)?.[DIRECT] === 'function';
}
