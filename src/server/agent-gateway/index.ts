import type { Logger } from '../../logger.js';
import type { MetricsSink } from '../../metrics/sink.js';
import { createAnswerer, type AgentGatewayServices } from './routes.js';
import { startTlsListener, type AgentGatewayTimeouts, type RunningAgentGateway } from './listener.js';

// The agent gateway in three parts: routes.ts (the agent protocol over the services), http-kit.ts (bodies,
// JSON answers, errors) and listener.ts (the TLS server and its connections' lifecycle).
export { MAX_BODY_BYTES } from './http-kit.js';
export type { AgentGatewayServices, AgentGatewayTimeouts, RunningAgentGateway };

export interface AgentGatewayOptions {
  host: string;
  port: number;
  /** The gateway's own certificate and key, and the core CA whose certificates clients are asked for. */
  tls: { certificatePem: string; privateKeyPem: string; caCertificatePem: string };
  services: AgentGatewayServices;
  log: Logger;
  /** Where each request's route, status and time go. */
  metrics?: MetricsSink;
  /** timeouts overrides the defaults (tests use short ones). */
  timeouts?: Partial<AgentGatewayTimeouts>;
}

/** startAgentGateway serves the agent protocol over TLS on its own port, asking clients for (not requiring) a certificate from the core CA. */
export function startAgentGateway(opts: AgentGatewayOptions): Promise<RunningAgentGateway> {
  const { services, log, ...listen } = opts;
  return startTlsListener({ ...listen, log, answer: createAnswerer(services, log) });
}
