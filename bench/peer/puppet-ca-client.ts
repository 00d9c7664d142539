// A client of Puppet Server's CA API (/puppet-ca/v1), authenticated with the server's own certificate
// (it carries pp_cli_auth, which Puppet's default auth.conf lets use the certificate_status endpoint).
// Jetty answers 400 unless the Host header equals the TLS server name, so both are the certname.
import { request, Agent } from 'node:https';

export interface PuppetCaClient {
  /** PUT certificate_request/<name>: submits a CSR (PEM). */
  submitCsr(name: string, csrPem: string): Promise<void>;
  /** PUT certificate_status/<name> {"desired_state":"signed"}. */
  sign(name: string): Promise<void>;
  /** PUT certificate_status/<name> {"desired_state":"revoked"}. */
  revoke(name: string): Promise<void>;
  /** GET certificate/<name>: the signed certificate (PEM). */
  certificate(name: string): Promise<string>;
  /** GET certificate_revocation_list/ca: the CA's CRL and its root's, PEM. */
  crl(): Promise<string>;
  close(): void;
}

export function puppetCaClient(opts: { port: number; certname: string; certPem: string; keyPem: string; caPem: string; maxSockets?: number }): PuppetCaClient {
  const agent = new Agent({
    keepAlive: true,
    timeout: 10_000,
    maxSockets: opts.maxSockets ?? 64,
    cert: opts.certPem,
    key: opts.keyPem,
    ca: opts.caPem,
    servername: opts.certname,
  });
  // Jetty closes a connection idle for 30 s; a request sent on it just then fails with ECONNRESET
  // before Puppet saw it. Sockets idle for 10 s are dropped first, and such a request is sent again once.
  async function call(method: string, path: string, body: string | undefined, contentType: string, ok: number[]): Promise<string> {
    try {
      return await once(method, path, body, contentType, ok);
    } catch (err) {
      if (!(err as { reusedSocket?: boolean }).reusedSocket) throw err;
      return once(method, path, body, contentType, ok);
    }
  }
  function once(method: string, path: string, body: string | undefined, contentType: string, ok: number[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: opts.port,
          method,
          path: `/puppet-ca/v1/${path}`,
          agent,
          servername: opts.certname,
          headers: {
            host: opts.certname,
            accept: method === 'GET' && path.startsWith('certificate_status') ? 'application/json' : 'text/plain, application/json',
            ...(body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            if (ok.includes(res.statusCode ?? 0)) resolve(text);
            else reject(new Error(`Puppet CA ${method} ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', (err: Error & { code?: string }) =>
        reject(Object.assign(err, { reusedSocket: req.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up') })),
      );
      req.end(body);
    });
  }
  const status = (name: string, state: string) =>
    call('PUT', `certificate_status/${encodeURIComponent(name)}`, JSON.stringify({ desired_state: state }), 'application/json', [204, 200]).then(() => undefined);
  return {
    submitCsr: (name, csrPem) => call('PUT', `certificate_request/${encodeURIComponent(name)}`, csrPem, 'text/plain', [200, 204]).then(() => undefined),
    sign: (name) => status(name, 'signed'),
    revoke: (name) => status(name, 'revoked'),
    certificate: (name) => call('GET', `certificate/${encodeURIComponent(name)}`, undefined, '', [200]),
    crl: () => call('GET', 'certificate_revocation_list/ca', undefined, '', [200]),
    close: () => agent.destroy(),
  };
}
