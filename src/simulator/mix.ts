/**
 * The fleet mix: which simulated agent plays which part, and what the chart should show after
 * every agent has played it.
 */

/** AgentRole is the part one simulated agent plays. */
export type AgentRole = 'healthy' | 'old' | 'neverApproved' | 'revoked' | 'neverConnect';

export const AGENT_ROLES: readonly AgentRole[] = ['healthy', 'old', 'neverApproved', 'revoked', 'neverConnect'];

/** MixShares are the shares (0 to 1) of the fleet that play each part other than healthy; they may add up to at most 1. */
export interface MixShares {
  /** 9.x agents: known from an inventory import, they connect without a certificate and are told to upgrade. */
  old?: number;
  /** Enroll and connect with their pending key, but no one approves them. */
  neverApproved?: number;
  /** Approved and connected once, then their certificate is revoked and they connect again. */
  revoked?: number;
  /** Enroll, are approved and fetch their certificate, but never connect. */
  neverConnect?: number;
}

export type MixCounts = Record<AgentRole, number>;

/** SummaryCounts is the part of authStatusSummary the simulator predicts. */
export interface SummaryCounts {
  total: number;
  succeeded: number;
  noAuthenticationInfo: number;
  failed: number;
  mustUpgrade: number;
}

/** countsOf keeps only the counts of a summary (it may carry more fields). */
export function countsOf(s: SummaryCounts): SummaryCounts {
  return { total: s.total, succeeded: s.succeeded, noAuthenticationInfo: s.noAuthenticationInfo, failed: s.failed, mustUpgrade: s.mustUpgrade };
}

/** mixCounts turns shares into whole numbers of agents (each share rounded; the rest healthy); a bad share throws RangeError. */
export function mixCounts(agents: number, shares: MixShares): MixCounts {
  const count = (name: keyof MixShares): number => {
    const share = shares[name] ?? 0;
    if (!Number.isFinite(share) || share < 0 || share > 1) throw new RangeError(`the share of ${name} must be from 0 to 1 (got ${share})`);
    return Math.round(share * agents);
  };
  const old = count('old');
  const neverApproved = count('neverApproved');
  const revoked = count('revoked');
  const neverConnect = count('neverConnect');
  const special = old + neverApproved + revoked + neverConnect;
  if (special > agents) {
    throw new RangeError(`the shares add up to more than the whole fleet (${special} of ${agents} agents)`);
  }
  return { healthy: agents - special, old, neverApproved, revoked, neverConnect };
}

/** expectedSummary is the chart after the mix has played against a core whose chart read `before`. */
export function expectedSummary(before: SummaryCounts, mix: MixCounts): SummaryCounts {
  const added = mix.healthy + mix.old + mix.neverApproved + mix.revoked + mix.neverConnect;
  return {
    total: before.total + added,
    succeeded: before.succeeded + mix.healthy,
    noAuthenticationInfo: before.noAuthenticationInfo + mix.neverConnect,
    failed: before.failed + mix.neverApproved + mix.revoked,
    mustUpgrade: before.mustUpgrade + mix.old,
  };
}

/** assignRoles spreads the mix over the fleet in a random order fixed by seed, so every part plays from start to end. */
export function assignRoles(mix: MixCounts, seed: number): Uint8Array {
  const total = AGENT_ROLES.reduce((n, r) => n + mix[r], 0);
  const roles = new Uint8Array(total);
  let at = 0;
  AGENT_ROLES.forEach((role, index) => {
    roles.fill(index, at, at + mix[role]);
    at += mix[role];
  });
  const random = mulberry32(seed);
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = roles[i]!;
    roles[i] = roles[j]!;
    roles[j] = t;
  }
  return roles;
}

/** roleAt reads the role assignRoles gave agent i. */
export function roleAt(roles: Uint8Array, i: number): AgentRole {
  return AGENT_ROLES[roles[i]!]!;
}

// A small seeded generator: the order only has to be repeatable, not unpredictable.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
