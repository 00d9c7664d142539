import type { RevocationReason } from '../domain/revocation.js';
import type { AuthStatus, ConnectionSource, FailureReason, UnverifiedReason } from '../domain/statuses.js';

// What the core tells its metrics, in the core's own words. Services, the live hub and the
// transport record through this interface, handed to them like the logger; only src/metrics/
// (wired by main.ts) knows Prometheus. Every argument is a bounded word of the domain or of the
// transport's own routes, so no caller can make a label set grow.

/** How an approved request came to be approved (certificate-issuance.ts's ApprovalHow). */
export type IssuedHow = 'manual' | 'renewal' | 'auto-approval';

/** What became of one enrollment call. */
export type EnrollmentOutcome =
  /** A new PENDING request, waiting for an admin. */
  | 'requested'
  /** The same key again: the request made before is returned. */
  | 'repeated'
  /** A renewal, approved at once. */
  | 'renewed'
  /** From an AUTO_APPROVE_NETWORKS address, approved at once. */
  | 'auto_approved'
  /** Refused: a bad request, or one of the limits (those are also counted as rate limited). */
  | 'refused';

/** The limits that answer 429. */
export type LimitCode = 'ENROLLMENT_RATE_LIMITED' | 'TOO_MANY_PENDING_REQUESTS' | 'PENDING_REQUESTS_FULL';

/** MetricsSink receives the core's measurements; noMetrics drops them. */
export interface MetricsSink {
  /** A connection result was committed (group commit), moving its device. */
  connectionResult(source: ConnectionSource, result: AuthStatus, reason: FailureReason | null): void;
  /** A claim that proved no key on file for its device, or named an agent id this core does not know. */
  unverifiedAttempt(reason: UnverifiedReason | 'UNKNOWN_AGENT'): void;
  /** Certificates issued by a committed transaction. */
  certificatesIssued(count: number, how: IssuedHow): void;
  /** Certificates revoked by a committed transaction. */
  certificatesRevoked(count: number, reason: RevocationReason): void;
  /** Devices the expiry sweep turned to AUTHENTICATION_FAILED (CERTIFICATE_EXPIRED) in a committed transaction. */
  certificatesExpired(count: number): void;
  enrollment(outcome: EnrollmentOutcome): void;
  rateLimited(code: LimitCode): void;
  /** One group-commit transaction of connection results: how many, and how long from its start to its commit. */
  groupCommit(batchSize: number, seconds: number): void;
  /** One summary push: seconds from the first change it carries reaching the live hub to the push leaving it. */
  summaryPushed(delaySeconds: number): void;
  /**
   * One GraphQL operation over HTTP: the client's name for it (src/metrics bounds the names it keeps),
   * its kind, its outcome, and its time (none for a request refused before Apollo's pipeline).
   */
  graphqlOperation(operation: string, type: string, outcome: 'ok' | 'error', seconds?: number): void;
  /** An error code a GraphQL response carried. */
  graphqlError(code: string): void;
  /**
   * One agent gateway request: its route pattern, method, answer status and time to answer (none for
   * an answer given before any route saw the request: a malformed request, a body refused up front).
   */
  gatewayRequest(route: string, method: string, status: number, seconds?: number): void;
  /** A graphql-ws socket opened (+1) or closed (-1). */
  websocketSockets(delta: 1 | -1): void;
  /** A subscription started (+1) or ended (-1). */
  subscriptions(delta: 1 | -1): void;
}

const ignore = () => {};

/** noMetrics is the sink of a core without a metrics listener: every measurement is dropped. */
export const noMetrics: MetricsSink = {
  connectionResult: ignore,
  unverifiedAttempt: ignore,
  certificatesIssued: ignore,
  certificatesRevoked: ignore,
  certificatesExpired: ignore,
  enrollment: ignore,
  rateLimited: ignore,
  groupCommit: ignore,
  summaryPushed: ignore,
  graphqlOperation: ignore,
  graphqlError: ignore,
  gatewayRequest: ignore,
  websocketSockets: ignore,
  subscriptions: ignore,
};
