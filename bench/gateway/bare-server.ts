// The gateway benchmark's baseline: a bare node:https server with client-certificate auth that
// records nothing.
import { randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCaSigner } from '../../src/pki/index.js';

/**
 * startBareServer starts the baseline on 127.0.0.1 and a port of the system's choosing: the same CA,
 * the same kind of server certificate and key (EC P-256, from the core's signer), client certificates
 * required and verified by TLS, the gateway's session and keep-alive settings; it reads the body,
 * parses it and answers a small JSON document, recording nothing.
 */
export async function startBareServer(authority: { certificatePem: string; privateKey: KeyObject }): Promise<{ server: HttpsServer; port: number }> {
  const signer = await createCaSigner({ certificatePem: authority.certificatePem, privateKey: authority.privateKey });
  const bareCert = await signer.issueServerCertificate({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
  const bareBody = JSON.stringify({ status: 'AUTHENTICATION_SUCCEEDED', reason: null });
  const server = createServer(
    {
      key: bareCert.privateKeyPem,
      cert: bareCert.certificatePem,
      ca: authority.certificatePem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ticketKeys: randomBytes(48),
      sessionIdContext: 'certfleet-bench-bare',
      sessionTimeout: 3600,
      keepAlive: true,
      keepAliveTimeout: 30_000,
      noDelay: true,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let status = 200;
        try {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          status = 400;
        }
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(bareBody)) });
        res.end(bareBody);
      });
    },
  );
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
