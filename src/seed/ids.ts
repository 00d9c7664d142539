// Deterministic randomness and unique identifiers for the bulk seed.
//
// Determinism: the same seed draws the same statuses, reasons, versions and times relative to
// opts.now; names, agent ids and serial numbers also depend on the highest device id present when
// the run starts (so that appended fleets never collide).

/** mix32 is MurmurHash3's finalizer: a bijection on 32-bit integers that scatters its input. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Rng is mulberry32, re-seeded per device so that a device's draws do not depend on the batch size. */
export class Rng {
  private a = 0;
  reset(seed: number, index: number): void {
    this.a = mix32(mix32(seed ^ 0x5bd1e995) ^ mix32(index + 0x6a09e667)) | 0;
  }
  /** u32 is a uniform 32-bit unsigned integer. */
  u32(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** next is uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[], cumulative: readonly number[]): T {
    const x = this.next() * cumulative[cumulative.length - 1]!;
    let i = 0;
    while (x >= cumulative[i]!) i++;
    return items[i]!;
  }
}


/** cumulative turns weights into the running sums Rng.pick takes. */
export const cumulative = (weights: readonly number[]) => weights.reduce<number[]>((acc, w) => [...acc, (acc.at(-1) ?? 0) + w], []);

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
const hex4 = (n: number) => (n & 0xffff).toString(16).padStart(4, '0');

// Names, agent ids and serial numbers are unique because their unique part is a bijection of the
// device's ordinal (the device id space: each run starts above the highest id present), whatever the seed.
const NAME_SPACE = 36n ** 7n;
const NAME_MULTIPLIER = 48_432_034_471n; // coprime with 36^7, so ordinal -> suffix is a bijection

/** hostSuffix is 7 base-36 characters, distinct for every ordinal below 36^7. */
export function hostSuffix(ordinal: number): string {
  return ((BigInt(ordinal) * NAME_MULTIPLIER + 0x1d5e3n) % NAME_SPACE).toString(36).toUpperCase().padStart(7, '0');
}

/** uniqueHex48 is 6 octets (12 hex digits) that differ for every v below 2^48. */
function uniqueHex48(v: number): string {
  const lo = v >>> 0;
  const hi = Math.floor(v / 4294967296) & 0xffff;
  const a = mix32(lo);
  return hex4(Math.imul(hi, 0x9e37) ^ mix32(a ^ 0x2545f491)) + hex8(a);
}

/** agentIdFor looks like a v4 GUID; its last group is unique per ordinal. */
export function agentIdFor(ordinal: number, rng: Rng): string {
  const r1 = rng.u32();
  const r2 = rng.u32();
  return `${hex8(r1)}-${hex4(r2 >>> 16)}-4${hex4(r2).slice(1)}-${hex4(0x8000 | (rng.u32() & 0x3fff))}-${uniqueHex48(ordinal)}`;
}

/** serialFor is a canonical 16-octet serial (top bit clear, first octet non-zero), unique per (ordinal, k < 4). */
export function serialFor(ordinal: number, k: number, rng: Rng): string {
  const v = ordinal * 4 + k;
  const lo = v >>> 0;
  const hi = Math.floor(v / 4294967296) >>> 0;
  const a = mix32(lo);
  const b = (mix32(hi) ^ mix32(a ^ 0x2545f491)) >>> 0;
  return hex8((0x40000000 | (rng.u32() & 0x3fffffff)) >>> 0) + hex8(rng.u32()) + hex8(a) + hex8(b);
}

/** foreignSerial is a serial of a certificate this core did not issue (self-signed or another CA's). */
export function foreignSerial(rng: Rng): string {
  return hex8(0x10000000 | (rng.u32() & 0x6fffffff)) + hex8(rng.u32()) + hex8(rng.u32()) + hex8(rng.u32());
}
