// The fan-out benchmark's processes and what they say to each other: the runner (the certfleet core,
// runner.ts) tells the client children (client.ts) to open, arm and close sockets, and each child
// reports when every one of its sockets has the round's message, with receive times from
// process.hrtime; it tells the bare server child (bare-server.ts) to broadcast, and that child says
// when its send loop started and returned, on the same clock (CLOCK_MONOTONIC).
import type { Mem } from './measure.js';

export type Kind = 'certfleet' | 'bare';

// At most this many WebSocket handshakes at once over all client processes (no SYN flood, and no
// socket waiting past graphql-ws's 3 s connection-init timeout on a busy server).
export const OPEN_IN_FLIGHT = 100;
export const ROUND_TIMEOUT_MS = 30_000;
export const SUMMARY_QUERY =
  'subscription { authStatusSummaryChanged { total succeeded failed noAuthenticationInfo mustUpgrade successRate items { status count } } }';

export type ToClient =
  | { op: 'open'; kind: Kind; n: number; url: string; token?: string; inFlight: number }
  | { op: 'arm'; kind: Kind; round: number; expect: { succeeded: number; failed: number } | { seq: number } }
  | { op: 'close'; kind: Kind }
  | { op: 'exit' };

export type FromClient =
  | { op: 'ready' }
  | { op: 'opened'; kind: Kind; n: number; ms: number; firstBytes: number }
  | { op: 'armed'; round: number }
  | { op: 'done'; kind: Kind; round: number; first: string; last: string; bytes: number; stray: number }
  | { op: 'closed'; kind: Kind; unexpectedCloses: number }
  | { op: 'error'; message: string };

export type ToBare =
  | { op: 'memory' }
  | { op: 'count' }
  | { op: 'broadcast'; round: number; bytes: number }
  | { op: 'exit' };

export type FromBare =
  | { op: 'ready'; url: string }
  | { op: 'memory'; mem: Mem }
  | { op: 'count'; n: number }
  | { op: 'sent'; round: number; start: string; end: string; n: number }
  | { op: 'error'; message: string };
