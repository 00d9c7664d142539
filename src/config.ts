import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseCidr } from './domain/addresses.js';

export interface AuthConfig {
  /** 'local': the core signs its own tokens with a key in dataDir; 'external': tokens from an identity provider's JWKS. */
  mode: 'local' | 'external';
  issuer: string;
  audience: string;
  /** The only JWS algorithms a token may use. */
  algorithms: string[];
  jwksUrl?: string;
  /** Claim holding the caller's roles (an array of role names, or one name). */
  rolesClaim: string;
  dataDir: string;
  /** How many verified tokens the verifier remembers, each until its expiry (0: none). */
  tokenCacheSize?: number;
}

export interface Config {
  host: string;
  port: number;
  agentPort: number;
  dataDir: string;
  /** postgres:// URL; undefined means the embedded PGlite database in dataDir. */
  databaseUrl?: string;
  caKeyPassphrase?: string;
  coreName: string;
  auth: AuthConfig;
  /** Validity of issued client certificates, in days. */
  clientCertDays: number;
  /** Networks whose new enrollment requests are approved automatically (off when empty). */
  autoApproveNetworks: string[];
  /** Names and addresses the agent gateway's TLS certificate is valid for. */
  agentHostnames: string[];
  /**
   * Load balancers (CIDRs) whose connections to the agent gateway begin with a PROXY protocol v2
   * header naming the client, whose address then counts as the client's (empty: off).
   */
  agentProxyProtocolFrom: string[];
  /** How often expired certificates are swept and the CRL checked, in milliseconds. */
  sweepIntervalMs: number;
  /** A revocation is named in the CRL served at most this many milliseconds after it commits (the CRL window). */
  crlWindowMs: number;
  /** At most one summary push per this many milliseconds per replica. */
  summaryPushMs: number;
  /** After a SIGTERM, /readyz answers 503 this long, still serving, before the listeners close. */
  shutdownDrainMs: number;
  /** Connection results older than this many days are deleted (each device's newest is kept). */
  connectionHistoryDays: number;
  /** At most this many connection results are kept per device, the newest. */
  connectionHistoryPerDevice: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** 'json' (one object per line) or 'pretty' (for a person); undefined: pretty when stderr is a terminal, else json. */
  logFormat?: 'json' | 'pretty';
  /** Open (PENDING) certificate requests one agent id may have at once. */
  enrollMaxPendingPerAgent: number;
  /** Open certificate requests in the whole core. */
  enrollMaxPending: number;
  /** Enrollment calls per source address (IPv6: per /64) per minute, per replica. */
  enrollRatePerMinute: number;
  /** 'imported': while the security model is off, imported devices without a valid certificate get secure data in the clear. */
  secureDataLegacyRelease: 'off' | 'imported';
  /** On a PostgreSQL server, a statement of the server's pool running longer than this many milliseconds is cancelled (0: no limit). */
  dbStatementTimeoutMs: number;
  /**
   * postgres:// URL of the role that owns the tables: used only to apply the migrations and grant
   * databaseUrl's role its row privileges at start, then closed. Undefined: databaseUrl migrates.
   */
  databaseMigrationUrl?: string;
  /** What one GraphQL request may ask, over HTTP and WebSocket alike (src/server/query-limits.ts). */
  graphqlLimits: QueryLimits;
  /** What one graphql-ws socket, and one token's sockets, may hold. */
  websocketLimits: WebSocketLimits;
  /** The Prometheus metrics listener's port (0: any free port); undefined: no metrics listener. */
  metricsPort?: number;
  /** The address the metrics listener is bound to. */
  metricsHost: string;
}

/** QueryLimits bound what one GraphQL request may ask (checked by src/server/query-limits.ts). */
export interface QueryLimits {
  /** Bytes (UTF-8) of the query text. */
  maxDocumentBytes: number;
  /** Lexical tokens of the query (graphql-js stops parsing past this many). */
  maxTokens: number;
  /** Levels of nested fields in the operation; a root field is level 1. */
  maxDepth: number;
  /** Aliased fields in the document, fragments counted each place they are spread. */
  maxAliases: number;
  /** Fields selected again under a response name already selected in the same place. */
  maxDuplicateFields: number;
  /** The operation's cost: see Walker.field in src/server/query-limits.ts and the README's Limits. */
  maxCost: number;
}

/** WebSocketLimits bound what one graphql-ws socket, and one token's sockets, may hold. */
export interface WebSocketLimits {
  /** Bytes of one graphql-ws message (ws maxPayload): the query and its variables. */
  maxMessageBytes: number;
  /** Operations in progress on one socket: subscriptions, and queries or mutations not finished. */
  maxSubscriptionsPerSocket: number;
  /** Open sockets authenticated with the same token. */
  maxConnectionsPerToken: number;
  /** Estimated memory of the parsed documents shared among sockets (createDocumentCache). */
  documentCacheBytes: number;
}

/** ConfigError is a bad setting: its message is one line meant for the operator. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function str(env: Env, key: string): string | undefined {
  const v = env[key];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function port(env: Env, key: string, fallback: number): number {
  const raw = str(env, key);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new ConfigError(`${key} must be a port number from 0 to 65535 (got "${raw}")`);
  }
  return Number(raw);
}

function intIn(env: Env, key: string, min: number, max: number, fallback: number): number {
  const raw = str(env, key);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${key} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

function list(env: Env, key: string): string[] {
  return (str(env, key) ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function oneOf<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T): T {
  const raw = str(env, key);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${key} must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}

/** redactUrl hides the password of a database URL so it can be printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function postgresUrl(env: Env, key: string): string | undefined {
  const url = str(env, key);
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname) {
    throw new ConfigError(`${key} must be a postgres://user@host:port/database URL (got "${redactUrl(url)}")`);
  }
  return url;
}

// The owner's connection migrates and grants in its own database, so both URLs must name the same
// one; and one role for both would leave the server owning the tables it is meant not to own.
function migrationUrlFor(env: Env, databaseUrl: string | undefined): string | undefined {
  const migrationUrl = postgresUrl(env, 'DATABASE_MIGRATION_URL');
  if (migrationUrl === undefined) return undefined;
  if (databaseUrl === undefined) {
    throw new ConfigError("DATABASE_MIGRATION_URL needs DATABASE_URL as well (the server's own role, which owns nothing)");
  }
  const owner = new URL(migrationUrl);
  const server = new URL(databaseUrl);
  if (decodeURIComponent(owner.pathname) !== decodeURIComponent(server.pathname)) {
    throw new ConfigError('DATABASE_MIGRATION_URL and DATABASE_URL must name the same database');
  }
  if (owner.username !== '' && decodeURIComponent(owner.username) === decodeURIComponent(server.username)) {
    throw new ConfigError('DATABASE_MIGRATION_URL must name another role than DATABASE_URL (the owner of the tables, not the server)');
  }
  return migrationUrl;
}

const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** loadConfig reads and validates every setting once; a bad value throws ConfigError. */
export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(str(env, 'DATA_DIR') ?? './data');

  const databaseUrl = str(env, 'DATABASE_URL');
  if (databaseUrl !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(databaseUrl);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname) {
      throw new ConfigError(
        `DATABASE_URL must be a postgres://user@host:port/database URL (got "${redactUrl(databaseUrl)}")`,
      );
    }
  }

  const caKeyPassphrase = env.CA_KEY_PASSPHRASE;
  if (caKeyPassphrase !== undefined && caKeyPassphrase !== '' && caKeyPassphrase.length < 12) {
    throw new ConfigError('CA_KEY_PASSPHRASE must be at least 12 characters long');
  }

  const jwksUrl = str(env, 'AUTH_JWKS_URL');
  const issuer = str(env, 'AUTH_ISSUER');
  const audience = str(env, 'AUTH_AUDIENCE');
  let auth: AuthConfig;
  const rolesClaim = str(env, 'AUTH_ROLES_CLAIM') ?? 'roles';
  const tokenCacheSize = intIn(env, 'AUTH_TOKEN_CACHE_SIZE', 0, 1_000_000, 10_000);
  if (jwksUrl !== undefined) {
    if (!issuer || !audience) {
      throw new ConfigError('AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE set as well');
    }
    let u: URL;
    try {
      u = new URL(jwksUrl);
    } catch {
      throw new ConfigError(`AUTH_JWKS_URL must be an http(s) URL (got "${jwksUrl}")`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      throw new ConfigError(`AUTH_JWKS_URL must be an http(s) URL (got "${jwksUrl}")`);
    }
    const algorithms = (str(env, 'AUTH_ALGORITHMS') ?? 'RS256,ES256').split(',').map((a) => a.trim());
    for (const a of algorithms) {
      if (!JWS_ALGORITHMS.includes(a)) {
        throw new ConfigError(`AUTH_ALGORITHMS may list only ${JWS_ALGORITHMS.join(', ')} (got "${a}")`);
      }
    }
    auth = { mode: 'external', issuer, audience, algorithms, jwksUrl, rolesClaim, dataDir, tokenCacheSize };
  } else {
    auth = {
      mode: 'local',
      issuer: issuer ?? 'urn:certfleet:core',
      audience: audience ?? 'urn:certfleet:api',
      algorithms: ['ES256'],
      rolesClaim,
      dataDir,
      tokenCacheSize,
    };
  }

  // The CA's subject is "<core name> certfleet CA": a CN holds at most 64 characters.
  const coreName = str(env, 'CORE_NAME') ?? hostname().slice(0, 50);
  if (coreName.length > 50) throw new ConfigError(`CORE_NAME must be at most 50 characters (got ${coreName.length})`);

  const clientCertDays = intIn(env, 'CLIENT_CERT_DAYS', 1, 3650, 365);
  const sweepIntervalMs = intIn(env, 'SWEEP_INTERVAL_MS', 100, 3_600_000, 15_000);
  const crlWindowMs = intIn(env, 'CRL_WINDOW_MS', 50, 60_000, 1000);
  const summaryPushMs = intIn(env, 'SUMMARY_PUSH_MS', 0, 60_000, 250);
  const connectionHistoryDays = intIn(env, 'CONNECTION_HISTORY_DAYS', 1, 3650, 30);
  const connectionHistoryPerDevice = intIn(env, 'CONNECTION_HISTORY_PER_DEVICE', 1, 10_000, 100);
  const autoApproveNetworks = list(env, 'AUTO_APPROVE_NETWORKS');
  for (const cidr of autoApproveNetworks) {
    if (!parseCidr(cidr)) {
      throw new ConfigError(`AUTO_APPROVE_NETWORKS must list networks like 10.1.0.0/16 or fd00::/8 (got "${cidr}")`);
    }
  }
  const agentProxyProtocolFrom = list(env, 'AGENT_PROXY_PROTOCOL_FROM');
  for (const cidr of agentProxyProtocolFrom) {
    if (!parseCidr(cidr)) {
      throw new ConfigError(`AGENT_PROXY_PROTOCOL_FROM must list the load balancers' networks like 10.0.0.5/32 or fd00::/64 (got "${cidr}")`);
    }
  }
  const agentHostnames = list(env, 'AGENT_HOSTNAMES');
  for (const h of agentHostnames) {
    if (!/^[A-Za-z0-9.:-]{1,253}$/.test(h)) throw new ConfigError(`AGENT_HOSTNAMES has an invalid name "${h}"`);
  }

  return {
    host: str(env, 'HOST') ?? '127.0.0.1',
    port: port(env, 'PORT', 4000),
    agentPort: port(env, 'AGENT_PORT', 4443),
    dataDir,
    databaseUrl,
    caKeyPassphrase: caKeyPassphrase === '' ? undefined : caKeyPassphrase,
    coreName,
    clientCertDays,
    autoApproveNetworks,
    agentHostnames: agentHostnames.length > 0 ? agentHostnames : ['localhost', '127.0.0.1', '::1', hostname()],
    agentProxyProtocolFrom,
    sweepIntervalMs,
    crlWindowMs,
    summaryPushMs,
    shutdownDrainMs: intIn(env, 'SHUTDOWN_DRAIN_MS', 0, 300_000, 5_000),
    connectionHistoryDays,
    connectionHistoryPerDevice,
    auth,
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    logFormat: str(env, 'LOG_FORMAT') === undefined ? undefined : oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    enrollMaxPendingPerAgent: intIn(env, 'ENROLL_MAX_PENDING_PER_AGENT', 1, 100, 3),
    enrollMaxPending: intIn(env, 'ENROLL_MAX_PENDING', 1, 10_000_000, 100_000),
    enrollRatePerMinute: intIn(env, 'ENROLL_RATE_PER_MINUTE', 1, 1_000_000, 1_200),
    secureDataLegacyRelease: oneOf(env, 'SECURE_DATA_LEGACY_RELEASE', ['off', 'imported'] as const, 'off'),
    dbStatementTimeoutMs: intIn(env, 'DB_STATEMENT_TIMEOUT_MS', 0, 3_600_000, 10_000),
    databaseMigrationUrl: migrationUrlFor(env, databaseUrl),
    ...requestLimits(env),
    ...metricsListener(env, { PORT: port(env, 'PORT', 4000), AGENT_PORT: port(env, 'AGENT_PORT', 4443) }),
  };
}

/** requestLimits reads the GraphQL and graphql-ws limits; the defaults are explained in the README's Limits. */
function requestLimits(env: Env): Pick<Config, 'graphqlLimits' | 'websocketLimits'> {
  const maxDocumentBytes = intIn(env, 'GRAPHQL_MAX_DOCUMENT_BYTES', 1024, 16 * 1024 * 1024, 32 * 1024);
  const graphqlLimits = {
    maxDocumentBytes,
    maxTokens: intIn(env, 'GRAPHQL_MAX_TOKENS', 100, 1_000_000, 1000),
    maxDepth: intIn(env, 'GRAPHQL_MAX_DEPTH', 1, 1000, 20),
    maxAliases: intIn(env, 'GRAPHQL_MAX_ALIASES', 0, 100_000, 30),
    maxDuplicateFields: intIn(env, 'GRAPHQL_MAX_DUPLICATE_FIELDS', 0, 100_000, 30),
    maxCost: intIn(env, 'GRAPHQL_MAX_COST', 1, 1_000_000_000, 100_000),
  };
  // A subscribe message carries the query and its variables: room for the largest query accepted, and more.
  const maxMessageBytes = intIn(
    env,
    'GRAPHQL_WS_MAX_MESSAGE_BYTES',
    maxDocumentBytes + 1024,
    64 * 1024 * 1024,
    maxDocumentBytes + 64 * 1024,
  );
  const websocketLimits = {
    maxMessageBytes,
    maxSubscriptionsPerSocket: intIn(env, 'GRAPHQL_WS_MAX_SUBSCRIPTIONS', 1, 10_000, 10),
    maxConnectionsPerToken: intIn(env, 'GRAPHQL_WS_MAX_CONNECTIONS_PER_TOKEN', 1, 1_000_000, 8),
    documentCacheBytes: intIn(env, 'GRAPHQL_WS_DOCUMENT_CACHE_BYTES', 0, 1024 * 1024 * 1024, 8 * 1024 * 1024),
  };
  return { graphqlLimits, websocketLimits };
}

/**
 * metricsListener reads METRICS_PORT and METRICS_HOST. No port, no listener: a core opens no port
 * nobody asked for, and replicas on one machine do not race for one (README.md, Metrics).
 */
function metricsListener(env: Env, taken: Record<'PORT' | 'AGENT_PORT', number>): Pick<Config, 'metricsPort' | 'metricsHost'> {
  const metricsHost = str(env, 'METRICS_HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(metricsHost)) {
    throw new ConfigError(`METRICS_HOST must be an address or host name to listen on (got "${metricsHost}")`);
  }
  if (str(env, 'METRICS_PORT') === undefined) return { metricsHost };
  const metricsPort = port(env, 'METRICS_PORT', 0);
  for (const [key, value] of Object.entries(taken)) {
    if (metricsPort !== 0 && metricsPort === value) {
      throw new ConfigError(`METRICS_PORT must differ from ${key} (both are ${metricsPort})`);
    }
  }
  return { metricsPort, metricsHost };
}
