import { createAgentClient, type AgentClient, type AgentClientOptions } from '../../src/agent-client/agent-client.js';

export {
  certificateFingerprint,
  fetchCaCertificate,
  type AgentClient,
  type AgentClientOptions,
  type AgentKeyType,
  type AgentResponse,
  type CertificateChoice,
  type ConnectOptions,
  type SecureDataOptions,
} from '../../src/agent-client/agent-client.js';

/** TestAgent is a simulated device agent: the real client, over real mutual TLS. */
export type TestAgent = AgentClient;

/** createAgent makes a simulated agent with a fresh key (EC-P256 unless keyType says otherwise). */
export function createAgent(opts: AgentClientOptions): TestAgent {
  return createAgentClient(opts);
}

/** errorOf reads the {"error": {code, message}} body of a refused call, or fails loudly if the body has another shape. */
export function errorOf(body: unknown): { code: string; message: string } {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    throw new Error(`expected an {"error": {code, message}} body, got ${JSON.stringify(body)}`);
  }
  return { code: error.code, message: error.message };
}

/**
 * withoutRequestId is a body without its error's requestId (the id of the HTTP request, new on each),
 * for comparing two answers that must say the same.
 */
export function withoutRequestId(body: unknown): unknown {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  if (error === null || typeof error !== 'object' || !('requestId' in error)) return body;
  const { requestId: _requestId, ...rest } = error;
  return { ...(body as object), error: rest };
}

/**
 * agentsOf makes agents for a running core (its gateway and CA) and closes them all at the end:
 * `const agents = agentsOf(() => tc.core)`, `agents.make('pc-1')`, `afterAll(agents.closeAll)`.
 */
export function agentsOf(core: () => { agentUrl: string; authority: { certificatePem: string } }) {
  const made: TestAgent[] = [];
  return {
    make(agentId: string, extra: Partial<AgentClientOptions> = {}): TestAgent {
      const c = core();
      const a = createAgentClient({ gatewayUrl: c.agentUrl, caCertificatePem: c.authority.certificatePem, agentId, ...extra });
      made.push(a);
      return a;
    },
    closeAll(): void {
      for (const a of made.splice(0)) a.close();
    },
  };
}
