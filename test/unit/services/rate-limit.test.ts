import { describe, expect, it } from 'vitest';
import { addressKey, createRateLimiter } from '../../../src/services/rate-limit.js';

describe('createRateLimiter', () => {
  it('allows perMinute calls at once, then one every 60/perMinute seconds, per key', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 6, clock: () => now });
    for (let i = 0; i < 6; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(10);
    expect(limiter.take('b')).toBe(0);
    now += 9_000;
    expect(limiter.take('a')).toBe(1);
    now += 1_000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(10);
  });

  it('forgets keys whose bucket has filled again, and never holds more than maxKeys', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 60, maxKeys: 100, clock: () => now });
    for (let i = 0; i < 100; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(100);
    now += 60_000;
    limiter.take('new');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 500; i++) limiter.take(`busy${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});

describe('addressKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s is limited as %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});
