import { ConfigError, loadConfig } from '../config.js';
import { DatabaseUnavailableError } from '../db/client.js';
import { createLogger, type Logger } from '../logger.js';
import { PkiError } from '../pki/index.js';
import { startCore, tokenHint } from '../main.js';

// The logger writes asynchronously: what it holds goes out before the process ends.
let log: Logger | undefined;
function exit(code: number): never {
  log?.flush();
  process.exit(code);
}

// Known start-up failures are one line for the operator, not a stack trace.
function fatal(err: unknown): never {
  const known = err instanceof ConfigError || err instanceof DatabaseUnavailableError || err instanceof PkiError;
  const message = known ? (err as Error).message : `unexpected error at start: ${(err as Error)?.stack ?? String(err)}`;
  log?.flush();
  process.stderr.write(`certfleet: ${message}\n`);
  exit(1);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    fatal(err);
  }
  const logger = createLogger(config.logLevel, { format: config.logFormat });
  log = logger;
  let core;
  try {
    const hint = await tokenHint(config);
    core = await startCore(config, { log: logger });
    logger.info(`certfleet core is up: GraphQL API at ${core.url} (database: ${core.database.kind === 'embedded' ? `embedded, in ${config.dataDir}` : 'PostgreSQL'})`);
    logger.info(`agent gateway (mutual TLS) at ${core.agentUrl}/agent/v1/; CA fingerprint (SHA-256) ${core.authority.fingerprint}`);
    logger.info(hint);
    // The console signs in through a link whose fragment carries a token: the command prints one (no
    // token is ever logged here). With an identity provider, its tokens are pasted on the sign-in page.
    logger.info(
      config.auth.mode === 'external'
        ? `Open the console at ${core.url.replace(/graphql$/, '')} and sign in with a token from your identity provider`
        : 'Open the console: npm run token -- --subject admin --role SECURITY_ADMIN --console, then open the printed link',
    );
  } catch (err) {
    fatal(err);
  }
  let stopping = false;
  let drainTimer: NodeJS.Timeout | undefined;
  let closeNow: () => void = () => {};
  // SIGTERM (a supervisor, a container runtime, a deploy) drains first: /readyz turns 503 for
  // SHUTDOWN_DRAIN_MS while everything keeps serving, so load balancers move new work elsewhere; then
  // the listeners close and in-flight work finishes. SIGINT (Ctrl+C at a terminal) skips the wait, as
  // does a second signal during it.
  const stop = (signal: string) => {
    if (stopping) {
      if (drainTimer) {
        logger.info(`${signal} received again: stopping without waiting for the drain`);
        clearTimeout(drainTimer);
        drainTimer = undefined;
        closeNow();
      }
      return;
    }
    stopping = true;
    const drainMs = signal === 'SIGTERM' ? config.shutdownDrainMs : 0;
    core.drain();
    logger.info(drainMs > 0 ? `${signal} received: draining for ${drainMs} ms (/readyz answers 503), then stopping` : `${signal} received: stopping`);
    new Promise<void>((resolve) => {
      closeNow = resolve;
      drainTimer = drainMs > 0 ? setTimeout(resolve, drainMs) : undefined;
      if (!drainTimer) resolve();
    })
      .then(() => core.close())
      .then(() => exit(0))
      .catch((err) => {
        logger.error('error while stopping', { error: err });
        exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
