import { describe, expect, it } from 'vitest';
import { crashSummary } from '../../../src/faults/core-process.js';
import { expectedVerdict, networkErrorKind, retryAfterMs } from '../../../src/faults/fleet.js';
import { matchAcknowledged, type AcknowledgedResult, type StoredResult } from '../../../src/faults/verify.js';

const ack = (agentId: string, sentAt: number, answeredAt: number, source = 'SECURE_CONNECTION', result = 'AUTHENTICATION_SUCCEEDED', reason: string | null = null): AcknowledgedResult => ({
  agentId,
  source,
  sentAt,
  answeredAt,
  result,
  reason,
});
let nextId = 1;
const row = (agentId: string, at: number, source = 'SECURE_CONNECTION', result = 'AUTHENTICATION_SUCCEEDED', reason: string | null = null): StoredResult => ({
  agentId,
  id: nextId++,
  at,
  source,
  result,
  reason,
});

describe('matchAcknowledged: every acknowledged result must have its own stored row', () => {
  it('pairs each answer with the row recorded inside its request window', () => {
    const out = matchAcknowledged(
      [ack('a', 1000, 1010), ack('a', 1020, 1030, 'SECURITY_SCANNER'), ack('b', 1000, 1050)],
      [row('a', 1005), row('a', 1025, 'SECURITY_SCANNER'), row('b', 1049)],
    );
    expect(out).toEqual({ acknowledged: 3, stored: 3, lost: [], storedNotAcknowledged: 0 });
  });

  it('counts an acknowledged result without a row as lost', () => {
    const missing = ack('a', 1020, 1030);
    const out = matchAcknowledged([ack('a', 1000, 1010), missing], [row('a', 1005)]);
    expect(out.lost).toEqual([missing]);
    expect(out.storedNotAcknowledged).toBe(0);
  });

  it('does not let the row of an unanswered earlier try stand in for a lost acknowledged one', () => {
    // The first try was stored but its answer never arrived (reset); the retry was answered, and its row is missing.
    const retried = ack('a', 2000, 2010);
    const out = matchAcknowledged([retried], [row('a', 1500)]);
    expect(out.lost).toEqual([retried]);
    expect(out.storedNotAcknowledged).toBe(1);
  });

  it('counts a row no answer accounts for as stored but not acknowledged', () => {
    const out = matchAcknowledged([ack('a', 2000, 2010)], [row('a', 1500), row('a', 2005)]);
    expect(out.lost).toEqual([]);
    expect(out.storedNotAcknowledged).toBe(1);
  });

  it('does not pair a row of another verdict, source or device', () => {
    const answered = ack('a', 1000, 1010, 'SECURE_CONNECTION', 'CLIENT_AGENTS_MUST_UPGRADE');
    const out = matchAcknowledged(
      [answered],
      [row('a', 1005, 'SECURE_CONNECTION', 'AUTHENTICATION_SUCCEEDED'), row('a', 1006, 'SECURITY_SCANNER', 'CLIENT_AGENTS_MUST_UPGRADE'), row('b', 1005, 'SECURE_CONNECTION', 'CLIENT_AGENTS_MUST_UPGRADE')],
    );
    expect(out.lost).toEqual([answered]);
    expect(out.storedNotAcknowledged).toBe(3);
  });

  it('does not pair a failure row whose reason differs', () => {
    const answered = ack('a', 1000, 1010, 'SECURE_CONNECTION', 'AUTHENTICATION_FAILED', 'NO_CLIENT_CERTIFICATE');
    const out = matchAcknowledged([answered], [row('a', 1005, 'SECURE_CONNECTION', 'AUTHENTICATION_FAILED', 'CERTIFICATE_NOT_APPROVED')]);
    expect(out.lost).toEqual([answered]);
  });

  it('does not pair a row recorded outside the window (beyond the clock tolerance)', () => {
    const answered = ack('a', 1000, 1010);
    expect(matchAcknowledged([answered], [row('a', 1020)]).lost).toEqual([answered]);
    expect(matchAcknowledged([answered], [row('a', 990)]).lost).toEqual([answered]);
    expect(matchAcknowledged([answered], [row('a', 1011)]).lost).toEqual([]);
  });

  it('uses one row for one answer only', () => {
    const out = matchAcknowledged([ack('a', 1000, 1010), ack('a', 1011, 1020)], [row('a', 1010)]);
    expect(out.lost).toHaveLength(1);
  });
});

describe('agent side of the fault run', () => {
  it('names requests that got no HTTP answer by kind', () => {
    expect(networkErrorKind(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('connection refused');
    expect(networkErrorKind(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('connection reset');
    expect(networkErrorKind(new Error('gateway did not answer POST /agent/v1/connect within 5000 ms'))).toBe('timeout');
    expect(networkErrorKind(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }))).toBe('network error EHOSTUNREACH');
  });

  it('honours Retry-After within 100 ms and 5 s, with a little jitter', () => {
    const within = (ms: number, target: number) => ms >= target * 0.9 && ms <= target * 1.1;
    expect(within(retryAfterMs('2'), 2000)).toBe(true);
    expect(within(retryAfterMs('120'), 5000)).toBe(true);
    expect(within(retryAfterMs('0'), 100)).toBe(true);
    expect(within(retryAfterMs(undefined), 1000)).toBe(true);
    // An HTTP date has whole seconds: 3 s ahead is 2 to 3 s away, before the jitter.
    const byDate = retryAfterMs(new Date(Date.now() + 3000).toUTCString());
    expect(byDate).toBeGreaterThanOrEqual(2000 * 0.9);
    expect(byDate).toBeLessThanOrEqual(3000 * 1.1);
  });

  it('expects of a flapping agent success and upgrade on alternate rounds', () => {
    expect(expectedVerdict('flapping', 0)).toEqual({ http: 200, status: 'AUTHENTICATION_SUCCEEDED', reason: null });
    expect(expectedVerdict('flapping', 1)).toEqual({ http: 426, status: 'CLIENT_AGENTS_MUST_UPGRADE', reason: null });
    expect(expectedVerdict('noCert', 3)).toEqual({ http: 401, status: 'AUTHENTICATION_FAILED', reason: 'NO_CLIENT_CERTIFICATE' });
  });

  it('finds the error and the frame it came from in a dying core\'s stderr', () => {
    const tail = [
      'file:///app/node_modules/postgres/src/connection.js:255',
      '    const x = socket.write(chunk, fn)',
      '                     ^',
      '',
      "TypeError: Cannot read properties of null (reading 'write')",
      '    at Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:255:22)',
      '    at process.processImmediate (node:internal/timers:483:21)',
      '',
      'Node.js v20.20.2',
    ].join('\n');
    expect(crashSummary(tail)).toBe(
      "TypeError: Cannot read properties of null (reading 'write') at Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:255:22)",
    );
  });
});
