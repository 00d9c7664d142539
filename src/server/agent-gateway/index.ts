import type { Logger } from '../../logger.js';
import type { MetricsSink } from '../../metrics/sink.js';
import { createAnswerer, type AgentGatewayServices } from './routes.js';
import { startTlsListener, type AgentGatewayTimeouts, type RunningAgentGateway } from './listener.js';

// The agent gateway in four parts: routes.ts (the agent protocol over the services), http-kit.ts (bodies,
// JSON answers, errors), listener.ts (the TLS server and its connections' lifecycle) and proxy-protocol.ts
// (the client's address from a trusted load balancer's PROXY protocol v2 header, read before TLS).
export { MAX_BODY_BYTES } from './http-kit.js';
export { encodeProxyV2, MAX_PROXY_HEADER_BYTES, parseProxyV2, type ProxyHeader, type ProxyParse } from './proxy-protocol.js';
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
  /**
   * Load balancers (CIDRs) whose connections begin with a PROXY protocol v2 header naming the client
   * (AGENT_PROXY_PROTOCOL_FROM, proxy-protocol.ts); empty or absent: off.
   */
  proxyProtocolFrom?: string[];
}

/** startAgentGateway serves the agent protocol over TLS on its own port, asking clients for (not requiring) a certificate from the core CA. */
export function startAgentGateway(opts: AgentGatewayOptions): Promise<RunningAgentGateway> {
  const { services, log, ...listen } = opts;
  return startTlsListener({ ...listen, log, answer: createAnswerer(services, log) });
}
