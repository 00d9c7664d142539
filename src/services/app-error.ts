import { GraphQLError } from 'graphql';
import { isDatabaseUnavailable, isStatementCancelled } from '../db/errors.js';

/** Stable error codes that clients and scripts branch on. */
export type AppErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'REQUEST_NOT_PENDING'
  | 'CSR_INVALID'
  | 'TOO_MANY_PENDING_REQUESTS'
  | 'PENDING_REQUESTS_FULL'
  | 'ENROLLMENT_RATE_LIMITED'
  | 'QUERY_TIMEOUT'
  | 'SERVICE_UNAVAILABLE';

/** The base code of each domain code: the contract promises one of the base codes' meanings. */
const HTTP_STATUS: Record<AppErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  REQUEST_NOT_PENDING: 409,
  CSR_INVALID: 400,
  TOO_MANY_PENDING_REQUESTS: 429,
  PENDING_REQUESTS_FULL: 429,
  ENROLLMENT_RATE_LIMITED: 429,
  QUERY_TIMEOUT: 503,
  SERVICE_UNAVAILABLE: 503,
};

/** RETRY_AFTER_SECONDS is how long a 503 (Retry-After) asks a client to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** AppError is every error a user may see; anything else reaches clients masked. */
export class AppError extends GraphQLError {
  readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, extra: Record<string, unknown> = {}) {
    // The code goes last: an extra named code must not change what clients are told.
    super(message, { extensions: { ...extra, code } });
    this.code = code;
    this.name = 'AppError';
  }

  /** retryAfterSeconds, when set, tells the client when to try again (the gateway's Retry-After). */
  get retryAfterSeconds(): number | undefined {
    const v = this.extensions.retryAfterSeconds;
    return typeof v === 'number' ? v : undefined;
  }

  /** httpStatus is the status the agent gateway answers with for this error. */
  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

/** badInput is the common case: the message names the argument and what was wrong with it. */
export function badInput(message: string, argument?: string): AppError {
  return new AppError('BAD_USER_INPUT', message, argument ? { argument } : {});
}

/** notFound says which kind of thing with which id does not exist (for this caller). */
export function notFound(kind: string, id: string): AppError {
  return new AppError('NOT_FOUND', `${kind} ${JSON.stringify(id)} not found`, { id });
}

/**
 * fromDatabaseError turns a database failure a caller can act on into its AppError (a cancelled,
 * too long statement; the database away), or undefined for anything else.
 */
export function fromDatabaseError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return undefined;
  if (isStatementCancelled(err)) {
    return new AppError(
      'QUERY_TIMEOUT',
      'the query took longer than the server allows and was cancelled: ask for fewer items (a smaller first) or use a narrower filter, or try again later',
    );
  }
  if (isDatabaseUnavailable(err)) {
    return new AppError('SERVICE_UNAVAILABLE', `the database is unavailable; try again in ${RETRY_AFTER_SECONDS} seconds`);
  }
  return undefined;
}
