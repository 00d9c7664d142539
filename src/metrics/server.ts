import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostInUrl } from '../domain/addresses.js';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { PrometheusMetrics } from './prometheus.js';

export interface RunningMetricsServer {
  /** url is where Prometheus scrapes: http://host:port/metrics. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * startMetricsServer serves GET /metrics on a listener of its own (METRICS_HOST, METRICS_PORT), apart
 * from the API and the agents: it can be bound to a private address, and a flood on the API does not
 * keep Prometheus from seeing it. No authentication: what it shows are counts, never names or keys.
 */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  metrics: PrometheusMetrics;
  log: Logger;
}): Promise<RunningMetricsServer> {
  const { metrics, log } = opts;
  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return text(res, 404, 'not found: metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    metrics.scrape().then(
      (body) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        log.error('metrics: could not render the metrics', { error: err });
        text(res, 500, 'could not render the metrics\n');
      },
    );
  });
  // Prometheus scrapes with short, kept-alive requests; a client that sends nothing is let go soon.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('metrics: server error', { error: err }));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${hostInUrl(opts.host)}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Kept-alive scrape connections would hold close() open until they time out.
        server.closeIdleConnections();
      }),
  };
}
