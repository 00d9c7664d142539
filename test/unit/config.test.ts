import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl, type Config } from '../../src/config.js';
import { DEFAULT_QUERY_LIMITS, DEFAULT_WEBSOCKET_LIMITS } from '../../src/server/query-limits.js';

/** configError runs loadConfig and returns the ConfigError it throws (failing the test if it throws none). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const JWKS = { AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json', AUTH_ISSUER: 'https://idp.example.com/', AUTH_AUDIENCE: 'certfleet' };

describe('loadConfig', () => {
  it('with nothing set, serves on 127.0.0.1:4000 with the embedded database in ./data and local tokens', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 4000,
      agentPort: 4443,
      dataDir: resolve('./data'),
      databaseUrl: undefined,
      caKeyPassphrase: undefined,
      coreName: hostname().slice(0, 50),
      logLevel: 'info',
      logFormat: undefined,
      clientCertDays: 365,
      autoApproveNetworks: [],
      agentHostnames: ['localhost', '127.0.0.1', '::1', hostname()],
      agentProxyProtocolFrom: [],
      sweepIntervalMs: 15_000,
      crlWindowMs: 1000,
      summaryPushMs: 250,
      connectionHistoryDays: 30,
      connectionHistoryPerDevice: 100,
      auth: {
        mode: 'local',
        issuer: 'urn:certfleet:core',
        audience: 'urn:certfleet:api',
        algorithms: ['ES256'],
        rolesClaim: 'roles',
        dataDir: resolve('./data'),
        tokenCacheSize: 10_000,
      },
      dbStatementTimeoutMs: 10_000,
      databaseMigrationUrl: undefined,
      enrollMaxPendingPerAgent: 3,
      enrollMaxPending: 100_000,
      enrollRatePerMinute: 1_200,
      secureDataLegacyRelease: 'off',
      graphqlLimits: DEFAULT_QUERY_LIMITS,
      websocketLimits: DEFAULT_WEBSOCKET_LIMITS,
      shutdownDrainMs: 5_000,
      metricsPort: undefined,
      metricsHost: '127.0.0.1',
    });
  });

  it('reads the enrollment bounds and the legacy release', () => {
    const config = loadConfig({
      ENROLL_MAX_PENDING_PER_AGENT: '1',
      ENROLL_MAX_PENDING: '10000000',
      ENROLL_RATE_PER_MINUTE: '60',
      SECURE_DATA_LEGACY_RELEASE: 'imported',
    });
    expect(config).toMatchObject({ enrollMaxPendingPerAgent: 1, enrollMaxPending: 10_000_000, enrollRatePerMinute: 60, secureDataLegacyRelease: 'imported' });
  });

  it('reads the request limits; the WebSocket message size follows the document size unless set', () => {
    const config = loadConfig({
      GRAPHQL_MAX_DOCUMENT_BYTES: '100000',
      GRAPHQL_MAX_TOKENS: '5000',
      GRAPHQL_MAX_DEPTH: '12',
      GRAPHQL_MAX_ALIASES: '0',
      GRAPHQL_MAX_DUPLICATE_FIELDS: '5',
      GRAPHQL_MAX_COST: '2000000',
      GRAPHQL_WS_MAX_SUBSCRIPTIONS: '3',
      GRAPHQL_WS_MAX_CONNECTIONS_PER_TOKEN: '2',
      GRAPHQL_WS_DOCUMENT_CACHE_BYTES: '0',
    });
    expect(config.graphqlLimits).toEqual({
      maxDocumentBytes: 100_000,
      maxTokens: 5000,
      maxDepth: 12,
      maxAliases: 0,
      maxDuplicateFields: 5,
      maxCost: 2_000_000,
    });
    expect(config.websocketLimits).toEqual({
      maxMessageBytes: 100_000 + 64 * 1024,
      maxSubscriptionsPerSocket: 3,
      maxConnectionsPerToken: 2,
      documentCacheBytes: 0,
    });
    expect(loadConfig({ GRAPHQL_WS_MAX_MESSAGE_BYTES: '2000000' }).websocketLimits.maxMessageBytes).toBe(2_000_000);
  });

  it('reads the client access settings', () => {
    const config = loadConfig({
      CLIENT_CERT_DAYS: '30',
      AUTO_APPROVE_NETWORKS: '10.1.0.0/16, fd00::/8',
      AGENT_HOSTNAMES: 'core.example.com,10.1.2.3',
      AGENT_PROXY_PROTOCOL_FROM: '10.0.0.5/32, fd00:1::/64',
      SWEEP_INTERVAL_MS: '1000',
      CRL_WINDOW_MS: '250',
    });
    expect(config).toMatchObject({
      clientCertDays: 30,
      autoApproveNetworks: ['10.1.0.0/16', 'fd00::/8'],
      agentHostnames: ['core.example.com', '10.1.2.3'],
      agentProxyProtocolFrom: ['10.0.0.5/32', 'fd00:1::/64'],
      sweepIntervalMs: 1000,
      crlWindowMs: 250,
    });
  });

  it('treats empty and blank values as unset', () => {
    const config = loadConfig({ PORT: '', HOST: '  ', DATABASE_URL: ' ', CA_KEY_PASSPHRASE: '', LOG_LEVEL: '', AUTH_JWKS_URL: '' });
    expect(config.port).toBe(4000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.caKeyPassphrase).toBeUndefined();
    expect(config.logLevel).toBe('info');
    expect(config.auth.mode).toBe('local');
  });

  it.each<{ name: string; env: Record<string, string>; check: (c: Config) => boolean }>([
    { name: 'PORT 0 asks the OS for a free port', env: { PORT: '0' }, check: (c) => c.port === 0 },
    { name: 'PORT 65535 is the highest port', env: { PORT: '65535' }, check: (c) => c.port === 65535 },
    { name: 'AGENT_PORT is read', env: { AGENT_PORT: '8443' }, check: (c) => c.agentPort === 8443 },
    { name: 'values are trimmed', env: { PORT: ' 4001 ' }, check: (c) => c.port === 4001 },
    {
      name: 'postgresql:// is accepted as well as postgres://',
      env: { DATABASE_URL: 'postgresql://u:p@db.local:5432/certfleet' },
      check: (c) => c.databaseUrl === 'postgresql://u:p@db.local:5432/certfleet',
    },
    {
      name: 'a 12-character CA_KEY_PASSPHRASE is long enough',
      env: { CA_KEY_PASSPHRASE: '123456789012' },
      check: (c) => c.caKeyPassphrase === '123456789012',
    },
    {
      name: 'a 50-character CORE_NAME fits the CA subject',
      env: { CORE_NAME: 'c'.repeat(50) },
      check: (c) => c.coreName === 'c'.repeat(50),
    },
    {
      name: 'DATA_DIR is made absolute and shared with the token signer',
      env: { DATA_DIR: 'some/dir' },
      check: (c) => c.dataDir === resolve('some/dir') && c.auth.dataDir === c.dataDir,
    },
    {
      name: 'AUTH_ISSUER and AUTH_AUDIENCE override the local defaults',
      env: { AUTH_ISSUER: 'urn:me', AUTH_AUDIENCE: 'urn:api', AUTH_ROLES_CLAIM: 'groups' },
      check: (c: Config) =>
        c.auth.mode === 'local' && c.auth.issuer === 'urn:me' && c.auth.audience === 'urn:api' && c.auth.rolesClaim === 'groups',
    },
    { name: 'LOG_LEVEL silent is allowed', env: { LOG_LEVEL: 'silent' }, check: (c) => c.logLevel === 'silent' },
    { name: 'LOG_FORMAT unset leaves the choice to the terminal', env: { LOG_FORMAT: ' ' }, check: (c) => c.logFormat === undefined },
    { name: 'LOG_FORMAT json', env: { LOG_FORMAT: 'json' }, check: (c) => c.logFormat === 'json' },
    { name: 'LOG_FORMAT pretty', env: { LOG_FORMAT: 'pretty' }, check: (c) => c.logFormat === 'pretty' },
    {
      name: 'the connection history bounds at their lowest',
      env: { CONNECTION_HISTORY_DAYS: '1', CONNECTION_HISTORY_PER_DEVICE: '1' },
      check: (c) => c.connectionHistoryDays === 1 && c.connectionHistoryPerDevice === 1,
    },
    {
      name: 'the connection history bounds at their highest',
      env: { CONNECTION_HISTORY_DAYS: '3650', CONNECTION_HISTORY_PER_DEVICE: '10000' },
      check: (c) => c.connectionHistoryDays === 3650 && c.connectionHistoryPerDevice === 10_000,
    },
    {
      name: 'DB_STATEMENT_TIMEOUT_MS 0 turns the statement timeout off',
      env: { DB_STATEMENT_TIMEOUT_MS: '0' },
      check: (c) => c.dbStatementTimeoutMs === 0,
    },
    {
      name: 'DB_STATEMENT_TIMEOUT_MS at its highest, an hour',
      env: { DB_STATEMENT_TIMEOUT_MS: '3600000' },
      check: (c) => c.dbStatementTimeoutMs === 3_600_000,
    },
    {
      name: 'DATABASE_MIGRATION_URL: the owner role of the same database as DATABASE_URL',
      env: {
        DATABASE_URL: 'postgres://certfleet_server:pw@db.local:5432/certfleet',
        DATABASE_MIGRATION_URL: 'postgres://certfleet_owner:pw@db.local:5432/certfleet',
      },
      check: (c) =>
        c.databaseMigrationUrl === 'postgres://certfleet_owner:pw@db.local:5432/certfleet' &&
        c.databaseUrl === 'postgres://certfleet_server:pw@db.local:5432/certfleet',
    },
    { name: 'METRICS_PORT opens the metrics listener, on 127.0.0.1', env: { METRICS_PORT: '9464' }, check: (c) => c.metricsPort === 9464 && c.metricsHost === '127.0.0.1' },
    { name: 'METRICS_PORT 0 asks the OS for a free port', env: { METRICS_PORT: '0' }, check: (c) => c.metricsPort === 0 },
    { name: 'a blank METRICS_PORT leaves the metrics off', env: { METRICS_PORT: ' ' }, check: (c) => c.metricsPort === undefined },
    { name: 'METRICS_HOST is read', env: { METRICS_PORT: '9464', METRICS_HOST: '::' }, check: (c) => c.metricsHost === '::' },
    { name: 'METRICS_PORT may take a port PORT left free', env: { PORT: '8080', METRICS_PORT: '4000' }, check: (c) => c.metricsPort === 4000 },
    {
      name: 'without DATABASE_MIGRATION_URL, DATABASE_URL migrates as before',
      env: { DATABASE_URL: 'postgres://app@db.local/certfleet', DATABASE_MIGRATION_URL: ' ' },
      check: (c) => c.databaseMigrationUrl === undefined,
    },
  ])('accepts: $name', ({ env, check }) => {
    expect(check(loadConfig(env))).toBe(true);
  });

  it('AUTH_JWKS_URL with issuer and audience selects external mode with RS256,ES256 by default', () => {
    const config = loadConfig(JWKS);
    expect(config.auth).toMatchObject({
      mode: 'external',
      jwksUrl: JWKS.AUTH_JWKS_URL,
      issuer: JWKS.AUTH_ISSUER,
      audience: JWKS.AUTH_AUDIENCE,
      algorithms: ['RS256', 'ES256'],
    });
    expect(loadConfig({ ...JWKS, AUTH_ALGORITHMS: 'PS256, EdDSA' }).auth.algorithms).toEqual(['PS256', 'EdDSA']);
  });

  it.each<{ variable: string; env: Record<string, string> }>([
    { variable: 'PORT', env: { PORT: 'abc' } },
    { variable: 'PORT', env: { PORT: '-1' } },
    { variable: 'PORT', env: { PORT: '65536' } },
    { variable: 'PORT', env: { PORT: '80.5' } },
    { variable: 'AGENT_PORT', env: { AGENT_PORT: 'https' } },
    { variable: 'LOG_LEVEL', env: { LOG_LEVEL: 'verbose' } },
    { variable: 'LOG_FORMAT', env: { LOG_FORMAT: 'text' } },
    { variable: 'DATABASE_URL', env: { DATABASE_URL: 'mysql://x' } },
    { variable: 'DATABASE_URL', env: { DATABASE_URL: 'not a url' } },
    { variable: 'DATABASE_URL', env: { DATABASE_URL: 'postgres:///no-host' } },
    { variable: 'CA_KEY_PASSPHRASE', env: { CA_KEY_PASSPHRASE: 'short' } },
    { variable: 'CA_KEY_PASSPHRASE', env: { CA_KEY_PASSPHRASE: '12345678901' } },
    { variable: 'CORE_NAME', env: { CORE_NAME: 'c'.repeat(51) } },
    { variable: 'AUTH_JWKS_URL', env: { ...JWKS, AUTH_JWKS_URL: 'ftp://idp.example.com/jwks' } },
    { variable: 'AUTH_JWKS_URL', env: { ...JWKS, AUTH_JWKS_URL: 'jwks.json' } },
    { variable: 'AUTH_ALGORITHMS', env: { ...JWKS, AUTH_ALGORITHMS: 'RS256,HS256' } },
    { variable: 'AUTH_ALGORITHMS', env: { ...JWKS, AUTH_ALGORITHMS: 'none' } },
    { variable: 'CLIENT_CERT_DAYS', env: { CLIENT_CERT_DAYS: '0' } },
    { variable: 'CLIENT_CERT_DAYS', env: { CLIENT_CERT_DAYS: '3651' } },
    { variable: 'SWEEP_INTERVAL_MS', env: { SWEEP_INTERVAL_MS: 'soon' } },
    { variable: 'CRL_WINDOW_MS', env: { CRL_WINDOW_MS: '10' } },
    { variable: 'AUTO_APPROVE_NETWORKS', env: { AUTO_APPROVE_NETWORKS: '10.0.0.0/33' } },
    { variable: 'AUTO_APPROVE_NETWORKS', env: { AUTO_APPROVE_NETWORKS: '10.0.0.0/8,everyone' } },
    { variable: 'AGENT_HOSTNAMES', env: { AGENT_HOSTNAMES: 'core host' } },
    { variable: 'AGENT_PROXY_PROTOCOL_FROM', env: { AGENT_PROXY_PROTOCOL_FROM: '10.0.0.5' } },
    { variable: 'AGENT_PROXY_PROTOCOL_FROM', env: { AGENT_PROXY_PROTOCOL_FROM: '10.0.0.0/8,haproxy.internal' } },
    { variable: 'SUMMARY_PUSH_MS', env: { SUMMARY_PUSH_MS: '60001' } },
    { variable: 'CONNECTION_HISTORY_DAYS', env: { CONNECTION_HISTORY_DAYS: '0' } },
    { variable: 'CONNECTION_HISTORY_DAYS', env: { CONNECTION_HISTORY_DAYS: '3651' } },
    { variable: 'CONNECTION_HISTORY_DAYS', env: { CONNECTION_HISTORY_DAYS: '7d' } },
    { variable: 'CONNECTION_HISTORY_PER_DEVICE', env: { CONNECTION_HISTORY_PER_DEVICE: '0' } },
    { variable: 'CONNECTION_HISTORY_PER_DEVICE', env: { CONNECTION_HISTORY_PER_DEVICE: '10001' } },
    { variable: 'CONNECTION_HISTORY_PER_DEVICE', env: { CONNECTION_HISTORY_PER_DEVICE: '-5' } },
    { variable: 'DB_STATEMENT_TIMEOUT_MS', env: { DB_STATEMENT_TIMEOUT_MS: '10s' } },
    { variable: 'ENROLL_MAX_PENDING_PER_AGENT', env: { ENROLL_MAX_PENDING_PER_AGENT: '0' } },
    { variable: 'ENROLL_MAX_PENDING_PER_AGENT', env: { ENROLL_MAX_PENDING_PER_AGENT: '101' } },
    { variable: 'ENROLL_MAX_PENDING', env: { ENROLL_MAX_PENDING: 'lots' } },
    { variable: 'ENROLL_RATE_PER_MINUTE', env: { ENROLL_RATE_PER_MINUTE: '0' } },
    { variable: 'SECURE_DATA_LEGACY_RELEASE', env: { SECURE_DATA_LEGACY_RELEASE: 'all' } },
    { variable: 'DB_STATEMENT_TIMEOUT_MS', env: { DB_STATEMENT_TIMEOUT_MS: '3600001' } },
    { variable: 'DB_STATEMENT_TIMEOUT_MS', env: { DB_STATEMENT_TIMEOUT_MS: '-1' } },
    { variable: 'DATABASE_MIGRATION_URL', env: { DATABASE_URL: 'postgres://s@db/x', DATABASE_MIGRATION_URL: 'mysql://o@db/x' } },
    { variable: 'DATABASE_MIGRATION_URL', env: { DATABASE_MIGRATION_URL: 'postgres://o@db.local/x' } },
    { variable: 'DATABASE_MIGRATION_URL', env: { DATABASE_URL: 'postgres://s@db/x', DATABASE_MIGRATION_URL: 'postgres://o@db/y' } },
    { variable: 'DATABASE_MIGRATION_URL', env: { DATABASE_URL: 'postgres://app:a@db/x', DATABASE_MIGRATION_URL: 'postgres://app:b@db/x' } },
    { variable: 'GRAPHQL_MAX_DOCUMENT_BYTES', env: { GRAPHQL_MAX_DOCUMENT_BYTES: '32k' } },
    { variable: 'GRAPHQL_MAX_DOCUMENT_BYTES', env: { GRAPHQL_MAX_DOCUMENT_BYTES: '10' } },
    { variable: 'GRAPHQL_MAX_TOKENS', env: { GRAPHQL_MAX_TOKENS: '99' } },
    { variable: 'GRAPHQL_MAX_DEPTH', env: { GRAPHQL_MAX_DEPTH: '0' } },
    { variable: 'GRAPHQL_MAX_ALIASES', env: { GRAPHQL_MAX_ALIASES: '-1' } },
    { variable: 'GRAPHQL_MAX_DUPLICATE_FIELDS', env: { GRAPHQL_MAX_DUPLICATE_FIELDS: 'many' } },
    { variable: 'GRAPHQL_MAX_COST', env: { GRAPHQL_MAX_COST: '0' } },
    // A subscribe message must have room for the largest query accepted.
    { variable: 'GRAPHQL_WS_MAX_MESSAGE_BYTES', env: { GRAPHQL_MAX_DOCUMENT_BYTES: '65536', GRAPHQL_WS_MAX_MESSAGE_BYTES: '65536' } },
    { variable: 'GRAPHQL_WS_MAX_SUBSCRIPTIONS', env: { GRAPHQL_WS_MAX_SUBSCRIPTIONS: '0' } },
    { variable: 'GRAPHQL_WS_MAX_CONNECTIONS_PER_TOKEN', env: { GRAPHQL_WS_MAX_CONNECTIONS_PER_TOKEN: '0' } },
    { variable: 'GRAPHQL_WS_DOCUMENT_CACHE_BYTES', env: { GRAPHQL_WS_DOCUMENT_CACHE_BYTES: '8MiB' } },
    { variable: 'METRICS_PORT', env: { METRICS_PORT: 'prometheus' } },
    { variable: 'METRICS_PORT', env: { METRICS_PORT: '65536' } },
    { variable: 'METRICS_PORT', env: { METRICS_PORT: '4000' } },
    { variable: 'METRICS_PORT', env: { AGENT_PORT: '9000', METRICS_PORT: '9000' } },
    { variable: 'METRICS_HOST', env: { METRICS_PORT: '9464', METRICS_HOST: 'every host' } },
  ])('rejects $env with a one-line ConfigError naming $variable', ({ variable, env }) => {
    const err = configError(env);
    expect(err.message).toContain(variable);
    expect(err.message).not.toContain('\n');
  });

  it.each<{ name: string; env: Record<string, string> }>([
    { name: 'without AUTH_ISSUER', env: { AUTH_JWKS_URL: JWKS.AUTH_JWKS_URL, AUTH_AUDIENCE: 'certfleet' } },
    { name: 'without AUTH_AUDIENCE', env: { AUTH_JWKS_URL: JWKS.AUTH_JWKS_URL, AUTH_ISSUER: 'https://idp.example.com/' } },
    { name: 'without either', env: { AUTH_JWKS_URL: JWKS.AUTH_JWKS_URL } },
  ])('AUTH_JWKS_URL $name is refused, naming both settings it needs', ({ env }) => {
    const err = configError(env);
    expect(err.message).toContain('AUTH_JWKS_URL');
    expect(err.message).toContain('AUTH_ISSUER');
    expect(err.message).toContain('AUTH_AUDIENCE');
  });

  it('a rejected DATABASE_URL is echoed without its password', () => {
    const err = configError({ DATABASE_URL: 'mysql://admin:s3cret-pw@db.local/x' });
    expect(err.message).not.toContain('s3cret-pw');
    expect(err.message).toContain('db.local');
  });

  it('a rejected DATABASE_MIGRATION_URL is echoed without its password', () => {
    const err = configError({ DATABASE_URL: 'postgres://s@db.local/x', DATABASE_MIGRATION_URL: 'mysql://owner:s3cret-pw@db.local/x' });
    expect(err.message).not.toContain('s3cret-pw');
    expect(err.message).toContain('DATABASE_MIGRATION_URL');
  });

  it('a rejected CA_KEY_PASSPHRASE is not echoed', () => {
    expect(configError({ CA_KEY_PASSPHRASE: 'hunter2' }).message).not.toContain('hunter2');
  });
});

describe('redactUrl', () => {
  it.each([
    { name: 'hides the password', url: 'postgres://app:s3cret@db.local:5432/certfleet', out: 'postgres://app:***@db.local:5432/certfleet' },
    { name: 'hides a percent-encoded password', url: 'postgres://app:p%40ss%3Aw@db.local/x', out: 'postgres://app:***@db.local/x' },
    { name: 'leaves a URL without a password as it is', url: 'postgres://app@db.local:5432/certfleet', out: 'postgres://app@db.local:5432/certfleet' },
    { name: 'never echoes what it cannot parse', url: 'not a url with s3cret', out: '(unparseable URL)' },
  ])('$name', ({ url, out }) => {
    expect(redactUrl(url)).toBe(out);
  });
});
