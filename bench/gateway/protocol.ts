// The gateway benchmark's two processes and what they say to each other: the runner (the servers,
// runner.ts) sends the load child (client.ts) its devices and runs; the child reports what it got.
import type { OpenLoopReport } from '../sustained/open-loop.js';

export type Mode = 'handshake' | 'resumed' | 'keepalive';
/**
 * bare records nothing; bareInsert is the same bare server recording each result with one INSERT
 * through postgres.js (PostgreSQL only, kept-alive connections only).
 */
export type Target = 'certfleet' | 'bare' | 'bareInsert';
export const ALL_MODES: Mode[] = ['handshake', 'resumed', 'keepalive'];

export const AGENT_VERSION = '2024.1';
export const CONNECT_PATH = '/agent/v1/connect';
export const REQUEST_TIMEOUT_MS = 15_000;
/** A run stops early and the benchmark fails once this many requests went wrong. */
export const MAX_ERRORS = 20;

export type ToClient =
  | { op: 'keys'; agentIds: string[] }
  | { op: 'certs'; caCertificatePem: string; certs: { agentId: string; certificatePem: string }[] }
  | { op: 'verify'; gatewayUrl: string }
  | { op: 'run'; id: number; target: Target; port: number; mode: Mode; concurrency: number; durationMs: number; minRequests: number }
  | OpenLoopRequest
  | { op: 'exit' };

/**
 * The sustained benchmark (bench/sustained.bench.ts): one step of open-loop load on resumed TLS
 * sessions, started at the wall-clock time startAt (ms since the epoch) so that every load process
 * begins together; this process takes requests offset, offset + stride, … of the common schedule.
 */
export interface OpenLoopRequest {
  op: 'openLoop';
  id: number;
  target: Target;
  port: number;
  rate: number;
  durationMs: number;
  startAt: number;
  offset: number;
  stride: number;
  allowanceMs: number;
  timeoutMs: number;
  maxInFlight: number;
  maxSlow: number;
}

/** clientCpuMs: the load process's CPU over the step; startShiftMs: how much later than startAt it started (the message came late). */
export type OpenLoopReply = { op: 'openLooped'; id: number; clientCpuMs: number; startShiftMs: number } & OpenLoopReport;

export interface RunReport {
  op: 'ran';
  id: number;
  /** Answered 200 with status AUTHENTICATION_SUCCEEDED. */
  ok: number;
  errors: number;
  errorSamples: string[];
  /** From the first request to the last answer (in-flight requests at the deadline included). */
  elapsedMs: number;
  /** Of the ok answers, how many came over a connection whose TLS session was resumed. */
  reused: number;
  /** Distinct TCP connections that carried the ok answers. */
  connections: number;
  tlsProtocols: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU time of the client process during the run (user + system). */
  clientCpuMs: number;
}

export type FromClient =
  | { op: 'ready' }
  | { op: 'csrs'; csrs: { agentId: string; csrPem: string }[] }
  | { op: 'certsLoaded'; n: number }
  | { op: 'verified'; n: number; statuses: Record<string, number> }
  | RunReport
  | OpenLoopReply
  | { op: 'error'; message: string };
