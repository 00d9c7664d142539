// One place decides what a database failure means, so the GraphQL server and the agent gateway
// answer the same failure the same way. Drizzle wraps the driver's error ("Failed query: …", the
// driver's error as cause), so every check walks the whole cause chain.

// postgres.js's own codes for a connection that could not be made or went away, and the socket
// errors beneath them (a server that is down, restarting, or cut off by the network).
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATEs of a server that is going down or not yet up: admin_shutdown, crash_shutdown,
// cannot_connect_now (starting up, or in recovery), and too_many_connections (it cannot take
// this connection now; it will when others end). Class 08, connection exceptions, is checked apart.
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

// query_canceled: the statement_timeout fired (or an administrator cancelled the statement).
const CANCELLED_STATE = '57014';

/** DatabaseUnavailableError means the database could not be opened or reached; its message is one line. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
// Far deeper than any real chain; stops a cyclic or absurd chain from costing anything.
const MAX_CHAIN = 16;

type ErrorLike = { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown; query?: unknown };

// The error and everything it was caused by (an AggregateError's parts included), outermost first.
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const todo: unknown[] = [err];
  while (todo.length > 0 && out.length < MAX_CHAIN) {
    const e = todo.shift();
    if (typeof e !== 'object' || e === null || out.includes(e as ErrorLike)) continue;
    const like = e as ErrorLike;
    out.push(like);
    if (like.cause !== undefined) todo.push(like.cause);
    if (Array.isArray(like.errors)) todo.push(...(like.errors as unknown[]));
  }
  return out;
}

function codeOf(e: ErrorLike): string | undefined {
  return typeof e.code === 'string' ? e.code : undefined;
}

/**
 * isDatabaseUnavailable says whether err means the database could not be reached or is going
 * down or starting up: a condition that passes by itself, so the caller should try again later.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return chain(err).some((e) => {
    if (e instanceof DatabaseUnavailableError) return true;
    const code = codeOf(e);
    if (code === undefined) return false;
    if (CONNECTION_CODES.has(code)) return true;
    return SQLSTATE.test(code) && (code.startsWith('08') || UNAVAILABLE_STATES.has(code));
  });
}

/** isStatementCancelled says whether err is a statement the database cancelled, in practice by statement_timeout. */
export function isStatementCancelled(err: unknown): boolean {
  return chain(err).some((e) => codeOf(e) === CANCELLED_STATE);
}

/**
 * describeDatabaseError picks what a log line needs from a database failure: the driver's code
 * and one-line message, and the SQL text (drizzle's, never its parameters, which may hold values).
 */
export function describeDatabaseError(err: unknown): { dbCode?: string; reason: string; sql?: string } {
  const all = chain(err);
  // The innermost error with a code is the driver's or the server's own word on what happened.
  const root = [...all].reverse().find((e) => codeOf(e) !== undefined) ?? all.at(-1);
  const sqlText = all.find((e) => typeof e.query === 'string')?.query as string | undefined;
  const message = typeof root?.message === 'string' ? root.message.split('\n')[0]! : String(err);
  return {
    ...(root && codeOf(root) !== undefined ? { dbCode: codeOf(root) } : {}),
    reason: message,
    ...(sqlText !== undefined ? { sql: sqlText.replace(/\s+/g, ' ').slice(0, 500) } : {}),
  };
}
