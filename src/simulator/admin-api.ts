import { SimulationError } from './errors.js';
import type { SummaryCounts } from './mix.js';

/** TokenSource gives the bearer token for the next GraphQL call (a fixed one, or one minted again before it expires). */
export type TokenSource = string | (() => Promise<string>);

/** AdminApi is what the simulator does as an admin script: it reads the chart and the CA, imports devices, approves and revokes. */
export interface AdminApi {
  summary(): Promise<SummaryCounts & { successRate: number }>;
  certificateAuthority(): Promise<{ certificatePem: string; fingerprint: string }>;
  registerDevices(devices: { name: string; agentId: string; agentVersion: string }[]): Promise<void>;
  /** approveClients approves one batch; failed lists the ids that were not approved, with the core's code. */
  approveClients(ids: string[]): Promise<{ approved: string[]; failed: { id: string; code: string; message: string }[] }>;
  revokeClientCertificate(id: string): Promise<void>;
  /** calls counts the GraphQL requests made. */
  readonly calls: number;
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

/** createAdminApi talks to the core's GraphQL API over HTTP like any script with a SECURITY_ADMIN token. */
export function createAdminApi(graphqlUrl: string, token: TokenSource, timeoutMs: number): AdminApi {
  let calls = 0;
  const bearer = typeof token === 'string' ? async () => token : token;

  async function gql<T>(operation: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    calls++;
    let res: Response;
    try {
      res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await bearer()}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const code = e.cause?.code ?? (e.name === 'TimeoutError' ? 'timeout' : e.name);
      throw new SimulationError(`graphql ${operation}: ${code}`, `${operation} at ${graphqlUrl}: ${e.cause instanceof Error ? e.cause.message : e.message}`);
    }
    let body: GraphQLBody<T>;
    try {
      body = (await res.json()) as GraphQLBody<T>;
    } catch {
      throw new SimulationError(`graphql ${operation}: HTTP ${res.status}`, `${operation}: HTTP ${res.status} without a GraphQL body (is ${graphqlUrl} the core's API?)`);
    }
    const first = body.errors?.[0];
    if (first || !body.data) {
      const code = first?.extensions?.code ?? `HTTP ${res.status}`;
      throw new SimulationError(`graphql ${operation}: ${code}`, `${operation}: ${first?.message ?? 'no data'}`);
    }
    return body.data;
  }

  return {
    get calls() {
      return calls;
    },
    async summary() {
      const data = await gql<{ authStatusSummary: SummaryCounts & { successRate: number } }>(
        'authStatusSummary',
        'query SimulatorSummary { authStatusSummary { total succeeded noAuthenticationInfo failed mustUpgrade successRate } }',
      );
      return data.authStatusSummary;
    },
    async certificateAuthority() {
      const data = await gql<{ securitySettings: { certificateAuthority: { certificatePem: string; fingerprint: string } } }>(
        'securitySettings',
        'query SimulatorCa { securitySettings { certificateAuthority { certificatePem fingerprint } } }',
      );
      return data.securitySettings.certificateAuthority;
    },
    async registerDevices(devices) {
      await gql('registerDevices', 'mutation SimulatorImport($devices: [DeviceInput!]!) { registerDevices(devices: $devices) { id } }', { devices });
    },
    async approveClients(ids) {
      const data = await gql<{ approveClients: { approved: { id: string; status: string }[]; failed: { id: string; code: string; message: string }[] } }>(
        'approveClients',
        'mutation SimulatorApprove($ids: [ID!]!) { approveClients(ids: $ids) { approved { id status } failed { id code message } } }',
        { ids },
      );
      return { approved: data.approveClients.approved.map((c) => c.id), failed: data.approveClients.failed };
    },
    async revokeClientCertificate(id) {
      const data = await gql<{ revokeClientCertificate: { status: string } }>(
        'revokeClientCertificate',
        'mutation SimulatorRevoke($id: ID!) { revokeClientCertificate(id: $id, reason: KEY_COMPROMISE) { id status } }',
        { id },
      );
      if (data.revokeClientCertificate.status !== 'REVOKED') {
        throw new SimulationError('graphql revokeClientCertificate: not revoked', `request ${id} is ${data.revokeClientCertificate.status} after revocation`);
      }
    },
  };
}
