import { request } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** ProxiedCall is one HTTPS request over a TCP connection that may begin with a PROXY protocol header, as a load balancer's would. */
export interface ProxiedCall {
  port: number;
  /** The local address to connect from (127.0.0.2 plays a load balancer on this machine's loopback). */
  localAddress: string;
  /** Bytes sent before TLS begins (a PROXY v2 header, or anything else); none when absent. */
  prefix?: Buffer;
  /** Send the prefix one byte at a time, each in its own write a few ms apart (partial reads). */
  byteByByte?: boolean;
  caCertificatePem: string;
  /** The client certificate and key to present, if any. */
  clientCert?: { certPem: string; keyPem: string };
  method: string;
  path: string;
  body?: string;
}

export type ProxiedOutcome =
  | { kind: 'answered'; status: number; body: unknown }
  /** The connection ended or failed before an answer: the message says how (a TLS error, a reset, ...). */
  | { kind: 'refused'; message: string };

/** proxiedCall makes the TCP connection, sends the prefix, then speaks TLS and HTTP/1.1 over the same socket. */
export async function proxiedCall(call: ProxiedCall): Promise<ProxiedOutcome> {
  let raw: Socket | undefined;
  let secure: TLSSocket | undefined;
  try {
    raw = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ host: '127.0.0.1', port: call.port, localAddress: call.localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    if (call.prefix) {
      if (call.byteByByte) {
        for (const byte of call.prefix) {
          raw.write(Buffer.from([byte]));
          await new Promise((r) => setTimeout(r, 2));
        }
      } else {
        raw.write(call.prefix);
      }
    }
    const tcp = raw;
    secure = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect(
        {
          socket: tcp,
          servername: 'localhost',
          ca: call.caCertificatePem,
          ...(call.clientCert ? { cert: call.clientCert.certPem, key: call.clientCert.keyPem } : {}),
        },
        () => resolve(t),
      );
      t.once('error', reject);
      t.once('close', () => reject(new Error('the connection closed during the TLS handshake')));
    });
    const tls = secure;
    return await new Promise<ProxiedOutcome>((resolve, reject) => {
      const req = request(
        {
          createConnection: () => tls,
          method: call.method,
          path: call.path,
          headers: { host: 'localhost', connection: 'close', ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // PEM and other text bodies stay text.
            }
            resolve({ kind: 'answered', status: res.statusCode ?? 0, body });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(call.body);
    });
  } catch (err) {
    return { kind: 'refused', message: (err as Error).message };
  } finally {
    secure?.destroy();
    raw?.destroy();
  }
}
