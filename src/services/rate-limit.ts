import { isIP } from 'node:net';
import { plainAddress } from '../domain/addresses.js';

/**
 * A token bucket per key (a client's address): `perMinute` calls at once, then `perMinute` a
 * minute. Kept in memory per replica; buckets that have filled up again are forgotten, so the map
 * holds only the keys active in the last minute or so, and at most `maxKeys` of them.
 */
export function createRateLimiter(opts: { perMinute: number; maxKeys?: number; clock?: () => number }) {
  const capacity = opts.perMinute;
  const perMs = opts.perMinute / 60_000;
  const maxKeys = opts.maxKeys ?? 100_000;
  const clock = opts.clock ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();

  function refill(b: { tokens: number; at: number }, now: number) {
    b.tokens = Math.min(capacity, b.tokens + (now - b.at) * perMs);
    b.at = now;
  }

  function sweep(now: number) {
    for (const [key, b] of buckets) {
      refill(b, now);
      if (b.tokens >= capacity) buckets.delete(key);
    }
    // Still full of active keys: the oldest go (they start again with a full bucket).
    for (const key of buckets.keys()) {
      if (buckets.size < maxKeys) break;
      buckets.delete(key);
    }
  }

  return {
    /** take spends one call for key: 0 when allowed, else the seconds to wait before the next one is. */
    take(key: string): number {
      const now = clock();
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= maxKeys) sweep(now);
        b = { tokens: capacity, at: now };
        buckets.set(key, b);
      } else {
        refill(b, now);
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    },
    get size() {
      return buckets.size;
    },
  };
}

/**
 * addressKey is what one client is limited by: its IPv4 address, or its IPv6 /64 (one host
 * usually holds a whole /64, so single addresses would be free for the taking).
 */
export function addressKey(address: string): string {
  const plain = plainAddress(address);
  if (isIP(plain) !== 6) return plain;
  const [head = '', tail] = plain.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}
