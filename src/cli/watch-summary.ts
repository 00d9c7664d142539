// npm run watch-summary: prints the Security settings chart each time it changes, over graphql-ws.
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../config.js';
import { issueToken } from '../server/auth.js';

const QUERY = `subscription {
  authStatusSummaryChanged { total successRate securityEnabled asOf items { label count } }
}`;

interface Summary {
  total: number;
  successRate: number;
  securityEnabled: boolean;
  asOf: string;
  items: { label: string; count: number }[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run watch-summary [-- --url http://127.0.0.1:4000/graphql] [--token JWT]\n' +
        'Without --token (or TOKEN), a VIEWER token is made with the core\'s own key in DATA_DIR.\n',
    );
    return 0;
  }
  const config = loadConfig();
  const url = (values.url ?? `http://${config.host}:${config.port}/graphql`).replace(/^http/, 'ws');
  const token =
    values.token ??
    process.env.TOKEN ??
    (await issueToken(config.auth, { subject: 'watch-summary', roles: ['VIEWER'], ttlSeconds: 8 * 3600 }));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    shouldRetry: (event) => (event as { code?: number }).code !== 4401,
  });
  process.stderr.write(`watching ${url} (Ctrl-C to stop)\n`);
  return new Promise<number>((resolve) => {
    client.subscribe<{ authStatusSummaryChanged: Summary }>(
      { query: QUERY },
      {
        next: ({ data, errors }) => {
          if (errors) process.stderr.write(`${errors.map((e) => e.message).join('; ')}\n`);
          const s = data?.authStatusSummaryChanged;
          if (!s) return;
          const items = s.items.map((i) => `${i.label}: ${i.count}`).join(' | ');
          process.stdout.write(
            `${s.asOf}  total ${s.total}  success ${(s.successRate * 100).toFixed(1)}%  ${items}${s.securityEnabled ? '  [security on]' : ''}\n`,
          );
        },
        error: (err) => {
          const e = err as { code?: number; reason?: string; message?: string };
          process.stderr.write(`certfleet watch-summary: ${e.reason || e.message || JSON.stringify(err)}\n`);
          resolve(1);
        },
        complete: () => resolve(0),
      },
    );
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`certfleet watch-summary: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    process.exit(1);
  },
);
