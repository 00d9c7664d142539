import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

// The layer rules CI checks (npm run check:layers), applied to a small house with imports that
// run back up, so a rule that could never fire shows here; and to src/ itself.
const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const config = require('../../.dependency-cruiser.cjs') as { forbidden: IForbiddenRuleType[] };

async function violationsIn(baseDir: string): Promise<string[]> {
  const { output } = await cruise(['src'], {
    baseDir,
    ruleSet: { forbidden: config.forbidden },
    validate: true,
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  }, { extensions: ['.ts', '.js'] }, { tsConfig: { fileName: `${root}/tsconfig.json` } } as never);
  const result = output as ICruiseResult;
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('layer rules', () => {
  it('refuse imports that run back up the house, each rule once, and allow the ones that run down', async () => {
    // Each rule of .dependency-cruiser.cjs once; the imports that run down (services → db,
    // resolvers → services, server → db/errors.ts, services → metrics/sink.ts) are not there.
    expect(await violationsIn(`${root}/test/fixtures/layers`)).toEqual([
      'base-imports-only-domain: src/config.ts → src/services/rule.ts',
      'core-not-tools: src/services/uses-tool.ts → src/cli/tool.ts',
      'db-below-services: src/db/query.ts → src/services/rule.ts',
      'domain-imports-nothing: src/domain/word.ts → src/db/table.ts',
      'events-lowest: src/events/carrier.ts → src/services/rule.ts',
      'metrics-reads-through-the-root: src/metrics/exporter.ts → src/services/rule.ts',
      'metrics-sink-imports-only-domain: src/metrics/sink.ts → src/db/table.ts',
      'metrics-through-the-sink: src/services/measures.ts → src/metrics/exporter.ts',
      'no-cycles: src/domain/a.ts → src/domain/b.ts',
      'pki-no-tables: src/pki/sign.ts → src/db/table.ts',
      'resolvers-never-touch-the-database: src/resolvers/thin.ts → src/db/table.ts',
      'schema-is-types: src/schema/type.ts → src/resolvers/thin.ts',
      'server-database-errors-only: src/server/http.ts → src/db/table.ts',
      'services-below-transport: src/services/answer.ts → src/server/http.ts',
    ]);
  });

  it('hold for src/', async () => {
    expect(await violationsIn(root)).toEqual([]);
  });
});
