import { randomUUID } from 'node:crypto';

/** REQUEST_ID_HEADER carries a request's id in both directions, on the API port and the agent gateway. */
export const REQUEST_ID_HEADER = 'x-request-id';

// What a caller's (or a load balancer's) id may look like to be kept: short, and nothing that
// could break a header or a log line or pass for something else in one (no spaces, quotes,
// commas, control characters). UUIDs, ULIDs, hex and base64 trace ids all fit.
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}$/;

/**
 * requestIdFrom keeps the id a request came with when it is well formed (one x-request-id
 * header, at most 128 characters of a safe set), so that an id set by a load balancer or a
 * client follows the request through; otherwise it makes a new one (a random UUID).
 */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && WELL_FORMED.test(header) ? header : flat(randomUUID());
}

/**
 * flat copies an ASCII string into one piece. node's randomUUID joins its UUID from some twenty
 * parts, which V8 keeps as a tree of concatenations (about 400 bytes against 56 for the flat
 * copy) for as long as the id is kept: a graphql-ws socket keeps its id while it is open.
 */
function flat(ascii: string): string {
  return Buffer.from(ascii, 'latin1').toString('latin1');
}
