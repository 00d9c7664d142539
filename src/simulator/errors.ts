/** SimulationError is one thing that went wrong, with a short kind to group it by in the summary. */
export class SimulationError extends Error {
  override name = 'SimulationError';
  constructor(
    /** e.g. "connect: HTTP 500 INTERNAL_SERVER_ERROR" or "enroll: ECONNRESET"; never holds a secret. */
    readonly kind: string,
    message: string,
    /** retriable: a network failure worth another try (the request may not have reached the core). */
    readonly retriable = false,
  ) {
    super(message);
  }
}

const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ECONNREFUSED', 'EADDRNOTAVAIL', 'UND_ERR_SOCKET']);

/** toSimulationError names an error thrown by a request of the given step. */
export function toSimulationError(step: string, err: unknown): SimulationError {
  if (err instanceof SimulationError) return err;
  const e = err as NodeJS.ErrnoException & { cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  const message = e instanceof Error ? e.message : String(err);
  if (typeof code === 'string' && code !== '') {
    return new SimulationError(`${step}: ${code}`, message, NETWORK_CODES.has(code));
  }
  if (/did not answer .* within/.test(message)) return new SimulationError(`${step}: timeout`, message, true);
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return new SimulationError(`${step}: timeout`, message, true);
  return new SimulationError(`${step}: ${e instanceof Error ? e.name : 'error'}`, message);
}
