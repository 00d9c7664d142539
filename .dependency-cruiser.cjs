// The layering of ../shared/DESIGN.md ("The house"), as rules that fail CI (npm run check:layers).
// From the top: tools (cli, seed, simulator, agent-client, faults) and the composition root
// (main.ts) → transport (server, resolvers, schema) → services → db and pki → events, with
// domain/ usable by every layer and using none. config.ts, logger.ts and data-dir.ts are the
// base every layer may read; they use only domain/. Measurements go through metrics/sink.ts, an
// interface every layer may record into (it uses only domain/); the rest of metrics/ (Prometheus)
// is wired by main.ts and reads nothing of the core itself. Type-only imports count too.
const tools = '^src/(cli|seed|simulator|agent-client|faults)/|^src/main\\.ts$';
const transport = '^src/(server|resolvers|schema)/';
const base = '^src/(config|logger|data-dir)\\.ts$';

/** A rule: files matching `from` may not import files matching `to`. */
const forbid = (name, comment, from, to) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: to },
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle ties modules together so neither can be read or changed alone.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    forbid(
      'domain-imports-nothing',
      'src/domain/ is the vocabulary: every layer uses it, it uses none of them.',
      '^src/domain/',
      '^src/(?!domain/)',
    ),
    forbid(
      'base-imports-only-domain',
      'config, logger and data-dir are read by every layer, so they may use only domain/.',
      base,
      '^src/(?!domain/|config\\.ts$|logger\\.ts$|data-dir\\.ts$)',
    ),
    forbid('core-not-tools', 'The core never imports the tools built on it.', '^src/(?!cli/|seed/|simulator/|agent-client/|faults/|main\\.ts$)', tools),
    forbid(
      'events-lowest',
      'events/ is the lowest layer: it knows the words of the domain, not the tables, the CA or the rules.',
      '^src/events/',
      '^src/(db|pki|services|server|resolvers|schema)/',
    ),
    forbid(
      'pki-no-tables',
      'The pki knows nothing of GraphQL, tables or business rules.',
      '^src/pki/',
      '^src/(db|events|services|server|resolvers|schema)/',
    ),
    forbid('db-below-services', 'db/ serves the services; it does not call up into them, nor into the pki.', '^src/db/', `^src/(pki|services)/|${transport}`),
    forbid('services-below-transport', 'Services hold the rules; they never see GraphQL or HTTP.', '^src/services/', transport),
    forbid('schema-is-types', 'schema/ holds GraphQL types: it uses the domain, not resolvers, services, tables or the server.', '^src/schema/', '^src/(resolvers|server|services|db)/'),
    forbid('resolvers-never-touch-the-database', 'A resolver is thin: arguments → one service call → result.', '^src/resolvers/', '^src/(db|server)/'),
    forbid(
      'metrics-sink-imports-only-domain',
      'metrics/sink.ts is the interface every layer records into, so it may use only domain/.',
      '^src/metrics/sink\\.ts$',
      '^src/(?!domain/|metrics/sink\\.ts$)',
    ),
    forbid(
      'metrics-through-the-sink',
      'The core records measurements through metrics/sink.ts; only main.ts (and the tools) know the Prometheus side.',
      '^src/(?!metrics/|main\\.ts$|cli/|seed/|simulator/|agent-client/|faults/)',
      '^src/metrics/(?!sink\\.ts$)',
    ),
    forbid(
      'metrics-reads-through-the-root',
      'metrics/ is handed what it reads (main.ts wires the figures in): it imports no layer of the core but the base and domain/.',
      '^src/metrics/(?!sink\\.ts$)',
      '^src/(db|pki|services|server|resolvers|schema|events)/',
    ),
    forbid(
      'server-database-errors-only',
      'The transport reaches the database only through services, except to classify a database error into an answer (db/errors.ts).',
      '^src/server/',
      '^src/db/(?!errors\\.ts$)',
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
