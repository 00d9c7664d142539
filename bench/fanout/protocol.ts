// The fan-out benchmark's two processes and what they say to each other: the runner (the servers,
// runner.ts) tells the client child (client.ts) to open, arm and close sockets; the child reports
// when every socket has the round's message, with receive times from process.hrtime.

export type Kind = 'certfleet' | 'bare';

export const OPEN_IN_FLIGHT = 100; // at most this many WebSocket handshakes at once (no SYN flood)
export const ROUND_TIMEOUT_MS = 30_000;
export const SUMMARY_QUERY =
  'subscription { authStatusSummaryChanged { total succeeded failed noAuthenticationInfo mustUpgrade successRate items { status count } } }';

export type ToClient =
  | { op: 'open'; kind: Kind; n: number; url: string; token?: string }
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
