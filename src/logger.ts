import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, stdSerializers, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';

/**
 * Logger writes one structured line per message (pino underneath: one JSON object per line, or
 * pino-pretty's form for a person at a terminal). Fields are data, not text: a value with spaces
 * or quotes reads back as it was. Keys, tokens, passphrases and secret values are censored by the
 * logger's own configuration (REDACTED_KEYS), but callers still never pass them.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** child logs with bindings added to every line (not requestId: that comes from withLogContext). */
  child(bindings: Record<string, unknown>): Logger;
  /** flush writes out whatever is buffered, synchronously: call it before process.exit. */
  flush(): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  /** json (the default), or pretty for a person; unset with the default output: pretty when stderr is a terminal. */
  format?: LogFormat;
  /** write takes each line, without its newline (tests capture lines); default: stderr. */
  write?: (line: string) => void;
}

/** What every line logged while serving one request carries. */
export interface LogContext {
  requestId: string;
}

const context = new AsyncLocalStorage<LogContext>();

/**
 * withLogContext runs fn so that every line logged in it, and in the work it starts (promises,
 * timers), carries the request's id: the transport calls it once per request, and the services'
 * lines need not know which request they serve.
 */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return context.run(ctx, fn);
}

/** currentLogContext is the context of the request being served, if any. */
export function currentLogContext(): LogContext | undefined {
  return context.getStore();
}

/**
 * outsideLogContext runs fn outside any request's context: for work that one request starts but
 * that serves many (a batch of results, a timer that pushes to every dashboard), whose lines
 * would otherwise name the one request that happened to start it.
 */
export function outsideLogContext<T>(fn: () => T): T {
  return context.exit(fn);
}

/**
 * The keys censored wherever they appear at the top of a line's fields or up to two levels
 * below: authorization headers, tokens (a graphql-ws connectionParams whole), private keys,
 * passphrases and secret values (a secure data item's value), database URLs (they may carry a
 * password), a query's parameters, and a request's body or GraphQL variables (they may carry any
 * of these: body-parser keeps the body on its errors).
 */
export const REDACTED_KEYS = [
  'authorization',
  'Authorization',
  'cookie',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'bearer',
  'connectionParams',
  'privateKey',
  'privateKeyPem',
  'key',
  'keyPem',
  'passphrase',
  'caKeyPassphrase',
  'CA_KEY_PASSPHRASE',
  'password',
  'secret',
  'value',
  'databaseUrl',
  'databaseMigrationUrl',
  'DATABASE_URL',
  'DATABASE_MIGRATION_URL',
  'params',
  'parameters',
  'body',
  'variables',
] as const;

/** REDACTED is what a censored value reads as. */
export const REDACTED = '[redacted]';

// fast-redact paths: each key at the top, one and two levels down (it has no "any depth" wildcard).
const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

// A failed query's parameters are data: whatever a caller sent or a row holds. Drizzle puts them in
// its error's message (and so its stack) after "params:", and drivers keep them as properties.
const SQL_PARAMS_TEXT = /\nparams: [\s\S]*?(?=\n {4}at |$)/;
const SQL_PARAMS_KEYS = ['params', 'parameters'];

type SerializedError = Record<string, unknown> & { message?: unknown; stack?: unknown; cause?: unknown };

function withoutSqlParams(err: SerializedError, depth = 0): SerializedError {
  if (typeof err.message === 'string') err.message = err.message.replace(SQL_PARAMS_TEXT, `\nparams: ${REDACTED}`);
  if (typeof err.stack === 'string') err.stack = err.stack.replace(SQL_PARAMS_TEXT, `\nparams: ${REDACTED}`);
  for (const k of SQL_PARAMS_KEYS) if (k in err) err[k] = REDACTED;
  if (depth < 8 && err.cause !== null && typeof err.cause === 'object') withoutSqlParams(err.cause as SerializedError, depth + 1);
  return err;
}

function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  // An Error under any key is written with its type, message and stack (and its cause), not as {},
  // and without the parameters of a failed query.
  let out = fields;
  for (const [k, v] of Object.entries(fields)) {
    if (!(v instanceof Error)) continue;
    if (out === fields) out = { ...fields };
    out[k] = withoutSqlParams(stdSerializers.errWithCause(v) as SerializedError);
  }
  return out;
}

/**
 * createLogger logs at or above level: by default to stderr, as JSON lines, or in pino-pretty's
 * form when stderr is a terminal (or format says pretty). Each line has level (its name: "debug",
 * "info", "warn", "error"), time (ISO 8601, UTC), pid, hostname, requestId while a request is
 * served, the fields, and msg. A second argument that is a function takes each line instead.
 */
export function createLogger(level: LogLevel, output: LoggerOptions | ((line: string) => void) = {}): Logger {
  const opts: LoggerOptions = typeof output === 'function' ? { write: output } : output;
  const toStderr = opts.write === undefined;
  const format: LogFormat = opts.format ?? (toStderr && process.stderr.isTTY ? 'pretty' : 'json');

  let destination: DestinationStream;
  let flush: () => void = () => {};
  if (format === 'pretty') {
    // pino-pretty in process and synchronously, not as a worker transport: a line is on the
    // terminal when the call returns, and nothing is left behind on exit.
    const pretty = prettyFactory({
      colorize: toStderr && process.stderr.isTTY === true,
      translateTime: 'SYS:standard',
      ignore: 'pid,hostname',
      singleLine: false,
    });
    const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
    destination = { write: (json: string) => write(pretty(json).replace(/\n$/, '')) };
  } else if (opts.write) {
    const write = opts.write;
    destination = { write: (json: string) => write(json.replace(/\n$/, '')) };
  } else {
    // Written asynchronously (the process never waits on a slow stderr reader); pino flushes it
    // on exit, and flush() does so on demand.
    const stream = pino.destination({ dest: 2, sync: false });
    destination = stream;
    flush = () => {
      try {
        stream.flushSync();
      } catch {
        // Not open yet, or stderr gone: nothing more can be written anyway.
      }
    };
  }

  const root = pino(
    {
      level,
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: serializeErrors,
      },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      // A new object each time: pino merges the line's fields into what the mixin returns.
      mixin: () => {
        const ctx = context.getStore();
        return ctx ? { requestId: ctx.requestId } : {};
      },
    },
    destination,
  );
  return wrap(root, flush);
}

function wrap(p: PinoLogger, flush: () => void): Logger {
  return {
    debug: (msg, fields) => (fields ? p.debug(fields, msg) : p.debug(msg)),
    info: (msg, fields) => (fields ? p.info(fields, msg) : p.info(msg)),
    warn: (msg, fields) => (fields ? p.warn(fields, msg) : p.warn(msg)),
    error: (msg, fields) => (fields ? p.error(fields, msg) : p.error(msg)),
    child: (bindings) => wrap(p.child(bindings), flush),
    flush,
  };
}
