import { GraphQLError } from 'graphql';

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
  | 'ENROLLMENT_RATE_LIMITED';

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
};

/** AppError is every error a user may see; anything else reaches clients masked. */
export class AppError extends GraphQLError {
  readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
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
