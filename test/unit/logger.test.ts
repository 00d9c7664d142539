import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, outsideLogContext, REDACTED, REDACTED_KEYS, withLogContext, type LogLevel } from '../../src/logger.js';
import { parseLog, parseLogs } from '../support/logs.js';

const ROOT = resolve(import.meta.dirname, '../..');

function capture(level: LogLevel = 'debug', format?: 'json' | 'pretty') {
  const lines: string[] = [];
  const log = createLogger(level, { format, write: (l) => lines.push(l) });
  return { log, lines };
}

describe('createLogger: JSON lines', () => {
  it('writes one JSON object per call: level by name, ISO time, pid, hostname, the fields, msg', () => {
    const { log, lines } = capture();
    log.info('certificate issued', { serial: '01ab', count: 3, nested: { ok: true }, text: 'with spaces, "quotes" and\nnewline' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const line = parseLog(lines[0]!);
    expect(line).toEqual({
      level: 'info',
      time: expect.any(String),
      pid: process.pid,
      hostname: hostname(),
      serial: '01ab',
      count: 3,
      nested: { ok: true },
      text: 'with spaces, "quotes" and\nnewline',
      msg: 'certificate issued',
    });
    expect(new Date(line.time).toISOString()).toBe(line.time);
  });

  it('logs at or above its level, each level by its name, and nothing when silent', () => {
    const write = (log: ReturnType<typeof createLogger>) => {
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
    };
    const all = capture('debug');
    write(all.log);
    expect(parseLogs(all.lines).map((l) => [l.level, l.msg])).toEqual([
      ['debug', 'd'],
      ['info', 'i'],
      ['warn', 'w'],
      ['error', 'e'],
    ]);
    const warn = capture('warn');
    write(warn.log);
    expect(parseLogs(warn.lines).map((l) => l.level)).toEqual(['warn', 'error']);
    const silent = capture('silent');
    write(silent.log);
    expect(silent.lines).toEqual([]);
  });

  it('writes an Error, under any key, with its type, message, stack and cause', () => {
    const { log, lines } = capture();
    class CaError extends Error {
      override name = 'CaError';
    }
    const err = new CaError('cannot sign', { cause: Object.assign(new Error('disk full'), { code: 'ENOSPC' }) });
    log.error('issuing failed', { error: err, other: new TypeError('bad type'), plain: 'not an error' });
    const line = parseLog(lines[0]!);
    expect(line.error).toMatchObject({
      type: 'CaError',
      message: 'cannot sign',
      stack: expect.stringContaining('    at '),
      cause: { type: 'Error', message: 'disk full', code: 'ENOSPC', stack: expect.stringContaining('    at ') },
    });
    expect(line.other).toMatchObject({ type: 'TypeError', message: 'bad type' });
    expect(line.plain).toBe('not an error');
    // A rejection of a non-Error stays what it was.
    log.error('odd', { error: 'a string' });
    expect(parseLog(lines[1]!).error).toBe('a string');
  });

  it('never writes the parameters of a failed query, from the message, the stack or the properties of any cause', () => {
    const { log, lines } = capture();
    // What drizzle throws: the SQL and its parameters in the message, the driver's error (with them again) as cause.
    const driver = Object.assign(new Error('duplicate key value'), { code: '23505', query: 'insert into t values ($1, $2)', parameters: ['p-secret-1', 'p-secret-2'] });
    const err = new Error('Failed query: insert into t values ($1, $2)\nparams: p-secret-1,p-secret-2', { cause: driver });
    Object.assign(err, { query: 'insert into t values ($1, $2)', params: ['p-secret-1', 'p-secret-2'] });
    log.error('failed', { error: err });
    expect(lines[0]).not.toContain('p-secret');
    const line = parseLog(lines[0]!);
    expect(line.error).toMatchObject({
      message: `Failed query: insert into t values ($1, $2)\nparams: ${REDACTED}`,
      stack: expect.stringMatching(new RegExp(`^Error: Failed query: insert into t values \\(\\$1, \\$2\\)\\nparams: \\[redacted\\]\\n {4}at `)),
      query: 'insert into t values ($1, $2)',
      params: REDACTED,
      cause: { message: 'duplicate key value', code: '23505', parameters: REDACTED },
    });
  });

  it('does not change the fields it was given', () => {
    const { log } = capture();
    const err = new Error('x');
    const fields = { error: err, token: 'abc', nested: { password: 'p' } };
    log.info('m', fields);
    expect(fields).toEqual({ error: err, token: 'abc', nested: { password: 'p' } });
  });
});

describe('createLogger: redaction by configuration', () => {
  it.each(REDACTED_KEYS)('censors %s at the top, one and two levels down', (key) => {
    const { log, lines } = capture();
    const secret = `secret-of-${key}-${Math.random()}`;
    log.info('m', { [key]: secret, outer: { [key]: secret, inner: { [key]: secret } }, kept: 'visible' });
    const line = parseLog(lines[0]!);
    expect(lines[0]).not.toContain(secret);
    expect(line[key]).toBe(REDACTED);
    expect(line.outer).toEqual({ [key]: REDACTED, inner: { [key]: REDACTED } });
    expect(line.kept).toBe('visible');
  });

  it('censors the shapes a transport holds: an authorization header, graphql-ws connectionParams, a secure data item', () => {
    const { log, lines } = capture();
    log.warn('request', {
      headers: { authorization: 'Bearer eyJhbGciOi.secret.sig', 'user-agent': 'curl' },
      connectionParams: { authorization: 'Bearer eyJ.ws.sig' },
      item: { name: 'core-password', value: 's3cret' },
      ca: { privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----', passphrase: 'long-passphrase' },
    });
    expect(lines[0]).not.toMatch(/eyJ|s3cret|PRIVATE KEY|long-passphrase/);
    expect(parseLog(lines[0]!)).toMatchObject({
      headers: { authorization: REDACTED, 'user-agent': 'curl' },
      connectionParams: REDACTED,
      item: { name: 'core-password', value: REDACTED },
      ca: { privateKeyPem: REDACTED, passphrase: REDACTED },
    });
  });

  it('censors a child logger’s bindings too', () => {
    const { log, lines } = capture();
    log.child({ component: 'gateway', token: 'tok-123' }).info('bound');
    expect(lines[0]).not.toContain('tok-123');
    expect(parseLog(lines[0]!)).toMatchObject({ component: 'gateway', token: REDACTED, msg: 'bound' });
  });
});

describe('log context: request ids', () => {
  it('adds the request id to every line logged in withLogContext, through awaits and timers', async () => {
    const { log, lines } = capture();
    log.info('before');
    await withLogContext({ requestId: 'req-1' }, async () => {
      log.info('at once');
      await new Promise((r) => setTimeout(r, 5));
      log.info('after a timer');
      outsideLogContext(() => log.info('outside'));
    });
    log.info('after');
    expect(parseLogs(lines).map((l) => [l.msg, l.requestId])).toEqual([
      ['before', undefined],
      ['at once', 'req-1'],
      ['after a timer', 'req-1'],
      ['outside', undefined],
      ['after', undefined],
    ]);
  });

  it('keeps concurrent requests apart, and a line’s own requestId field wins without a duplicate key', async () => {
    const { log, lines } = capture();
    await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        withLogContext({ requestId: id }, async () => {
          await new Promise((r) => setTimeout(r, Math.random() * 10));
          log.info(`for ${id}`);
        }),
      ),
    );
    for (const l of parseLogs(lines)) expect(l.msg).toBe(`for ${l.requestId}`);
    withLogContext({ requestId: 'ctx' }, () => log.info('explicit', { requestId: 'given', extra: 1 }));
    expect(lines.at(-1)!.match(/"requestId"/g)).toHaveLength(1);
    expect(parseLog(lines.at(-1)!).requestId).toBe('given');
    // The fields of one line never stick to the context.
    withLogContext({ requestId: 'ctx2' }, () => {
      log.info('one', { stray: true });
      log.info('two');
    });
    expect(parseLog(lines.at(-1)!).stray).toBeUndefined();
  });
});

describe('createLogger: pretty', () => {
  it('writes a line a person reads: time, level, message, then the fields, still redacted', () => {
    const { log, lines } = capture('debug', 'pretty');
    withLogContext({ requestId: 'req-9' }, () => log.warn('agent refused', { route: '/agent/v1/connect', token: 'tok-xyz' }));
    expect(lines).toHaveLength(1);
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(lines[0]).toMatch(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [+-]\d{4}\] WARN: agent refused\n/);
    expect(lines[0]).toContain('requestId: "req-9"');
    expect(lines[0]).toContain('route: "/agent/v1/connect"');
    expect(lines[0]).not.toContain('tok-xyz');
    expect(lines[0]).toContain(`token: "${REDACTED}"`);
    // No colour codes when writing somewhere other than a terminal.
    expect(lines[0]).not.toContain('\u001b[');
  });

  it('writes an error with its stack', () => {
    const { log, lines } = capture('debug', 'pretty');
    log.error('failed', { error: new Error('boom') });
    expect(lines[0]).toContain('ERROR: failed');
    expect(lines[0]).toContain('"message": "boom"');
    expect(lines[0]).toMatch(/Error: boom\n\s+at /);
  });
});

describe('createLogger: to stderr', () => {
  // Writes are asynchronous: a process that exits right after logging must still have written every line.
  it('has written every line when the process exits at once', async () => {
    const script = [
      "import { createLogger } from './src/logger.ts';",
      "const log = createLogger('info');",
      "for (let i = 0; i < 5000; i++) log.info('line', { i });",
      "log.flush();",
      "process.stderr.write('flushed\\n');",
      "for (let i = 5000; i < 10000; i++) log.info('line', { i });",
      'process.exit(0);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, LOG_FORMAT: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code).toBe(0);
    const out = stderr.trimEnd().split('\n');
    // flush() wrote the first 5000 before the plain line that followed it; the rest went out on exit.
    expect(out.indexOf('flushed')).toBe(5000);
    const json = out.filter((l) => l !== 'flushed').map((l) => parseLog(l).i);
    expect(json).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  }, 30_000);
});
