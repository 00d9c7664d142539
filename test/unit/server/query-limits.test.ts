import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSchema, getIntrospectionQuery, GraphQLError, Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import {
  checkDocumentLimits,
  checkDocumentSize,
  checkQueryLimits,
  createConnectionCounter,
  DEFAULT_QUERY_LIMITS,
  isLimitError,
  parseWithinLimits,
  type QueryLimits,
} from '../../../src/server/query-limits.js';
import { measureQuery, UNPAGED_LIST_FACTOR } from '../../../src/server/query-measure.js';

// The schema the server serves, as codegen writes it from the code.
const schema = buildSchema(readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8'));

/** Limits small enough that each case below sits right at one of them. */
const SMALL: QueryLimits = { maxDocumentBytes: 200, maxTokens: 40, maxDepth: 4, maxAliases: 3, maxDuplicateFields: 2, maxCost: 1000 };
const UNLIMITED: QueryLimits = {
  maxDocumentBytes: Infinity,
  maxTokens: Infinity,
  maxDepth: Infinity,
  maxAliases: Infinity,
  maxDuplicateFields: Infinity,
  maxCost: Infinity,
};

function check(source: string, limits: QueryLimits, request: { operationName?: string; variables?: Record<string, unknown> } = {}) {
  return checkQueryLimits(schema, { source, ...request }, limits);
}

/** reasonOf is the refusal's reason, 'pass' when the query is accepted, or 'syntax' for a query that is not GraphQL. */
function reasonOf(source: string, limits: QueryLimits, request: { operationName?: string; variables?: Record<string, unknown> } = {}) {
  const r = check(source, limits, request);
  if (!r.error) return 'pass';
  return isLimitError(r.error) ? r.error.extensions.reason : 'syntax';
}

/** costOf measures one operation with no limit in the way. */
function costOf(source: string, variables?: Record<string, unknown>, operationName?: string) {
  const m = measureQuery(schema, parse(source), { variables, operationName });
  expect(m.operations).toHaveLength(1);
  return m.operations[0]!.cost;
}

function depthOf(source: string) {
  return measureQuery(schema, parse(source), {}).operations[0]!.depth;
}

const pad = (query: string, bytes: number) => query + ' '.repeat(bytes - Buffer.byteLength(query));

describe('each limit: at the limit passes, one over is refused with its reason', () => {
  it.each<{ name: string; at: string; over: string; reason: string; found?: number; limits?: QueryLimits }>([
    {
      name: 'document bytes',
      at: pad('{ authStatusSummary { total } }', 200),
      over: pad('{ authStatusSummary { total } }', 201),
      reason: 'DOCUMENT_TOO_LARGE',
      found: 201,
    },
    {
      name: 'document bytes, counted in UTF-8 (é is two bytes)',
      at: pad('{ authStatusSummary { total } } #é', 200),
      over: pad('{ authStatusSummary { total } } #éé', 201),
      reason: 'DOCUMENT_TOO_LARGE',
      found: 201,
    },
    {
      // Four braces and a name, and 35 names more.
      name: 'tokens',
      at: `{ authStatusSummary { ${'total '.repeat(35)}} }`,
      over: `{ authStatusSummary { ${'total '.repeat(36)}} }`,
      reason: 'TOO_MANY_TOKENS',
      limits: { ...UNLIMITED, maxTokens: 40 },
    },
    {
      name: 'depth',
      at: '{ devices { edges { node { id } } } }',
      over: '{ devices { edges { node { lastConnection { at } } } } }',
      reason: 'QUERY_TOO_DEEP',
      found: 5,
    },
    {
      name: 'aliases',
      at: '{ a: authStatusSummary { total } b: authStatusSummary { total } c: securitySettings { enabledAt } }',
      over: '{ a: authStatusSummary { total } b: authStatusSummary { total } c: securitySettings { enabledAt } d: myQueries { id } }',
      reason: 'TOO_MANY_ALIASES',
      found: 4,
    },
    {
      name: 'duplicate fields',
      at: '{ authStatusSummary { total total total } }',
      over: '{ authStatusSummary { total total total total } }',
      reason: 'TOO_MANY_DUPLICATE_FIELDS',
      found: 3,
    },
    {
      // devices: 1 + first × (edges: 1 + 1 × (node: 1 + id 1)) = 1 + 3 × first.
      name: 'cost',
      at: '{ devices(first: 333) { edges { node { id } } } }',
      over: '{ devices(first: 334) { edges { node { id } } } }',
      reason: 'QUERY_TOO_COSTLY',
      found: 1003,
    },
  ])('$name', ({ at, over, reason, found, limits = SMALL }) => {
    expect(reasonOf(at, limits)).toBe('pass');
    const r = check(over, limits);
    expect(r.error).toBeDefined();
    expect(r.error!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason });
    if (found !== undefined) expect(r.error!.extensions.found).toBe(found);
  });

  it.each<{ reason: string; limit: number; query: string; setting: string; words: RegExp }>([
    { reason: 'DOCUMENT_TOO_LARGE', limit: 1000, query: pad('{ authStatusSummary { total } }', 1100), setting: 'GRAPHQL_MAX_DOCUMENT_BYTES', words: /1,100 bytes long; .* at most 1,000/ },
    { reason: 'TOO_MANY_TOKENS', limit: 40, query: `{ authStatusSummary { ${'total '.repeat(50)}} }`, setting: 'GRAPHQL_MAX_TOKENS', words: /more than 40 tokens/ },
    { reason: 'QUERY_TOO_DEEP', limit: 4, query: 'query Deep { devices { edges { node { lastConnection { at } } } } }', setting: 'GRAPHQL_MAX_DEPTH', words: /Operation "Deep" nests fields 5 levels deep; .* at most 4/ },
    { reason: 'TOO_MANY_ALIASES', limit: 3, query: '{ a: myQueries { id } b: myQueries { id } c: myQueries { id } d: myQueries { id } e: myQueries { id } }', setting: 'GRAPHQL_MAX_ALIASES', words: /has 5 aliases .*; this server accepts at most 3 / },
    { reason: 'TOO_MANY_DUPLICATE_FIELDS', limit: 2, query: '{ myQueries { id id id id } }', setting: 'GRAPHQL_MAX_DUPLICATE_FIELDS', words: /3 times .*; this server accepts at most 2 / },
    { reason: 'QUERY_TOO_COSTLY', limit: 1000, query: '{ devices(first: 500) { edges { node { id } } } }', setting: 'GRAPHQL_MAX_COST', words: /may cost 1,501 .*first.*; .* at most 1,000/ },
  ])('a $reason refusal says which limit, its value, what the query had and how to change it', ({ reason, limit, query, setting, words }) => {
    const r = check(query, { ...SMALL, maxDocumentBytes: 1000 });
    expect(r.error).toBeInstanceOf(GraphQLError);
    expect(r.error!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason, limit });
    expect(r.error!.message).toMatch(words);
    expect(r.error!.message).toContain(`raise ${setting}`);
  });
});

describe('cost: a field costs 1 plus what it selects times its factor', () => {
  it.each<{ name: string; query: string; variables?: Record<string, unknown>; cost: number }>([
    { name: 'a scalar costs 1', query: '{ authStatusSummary { total } }', cost: 2 },
    { name: 'an object costs 1 plus its fields', query: '{ securitySettings { certificateAuthority { subject fingerprint } } }', cost: 4 },
    { name: 'a list without first costs 10 times what it selects', query: '{ myQueries { id name } }', cost: 1 + UNPAGED_LIST_FACTOR * 2 },
    { name: 'a list of scalars costs 1', query: '{ device(id: "1") { inventory { path } } }', cost: 1 + 1 + UNPAGED_LIST_FACTOR * 1 },
    { name: 'first given as a literal', query: '{ devices(first: 7) { totalCount } }', cost: 1 + 7 * 1 },
    { name: 'first from the variables', query: 'query($n: Int) { devices(first: $n) { totalCount } }', variables: { n: 9 }, cost: 1 + 9 },
    { name: "first from the variable's default", query: 'query($n: Int = 4) { devices(first: $n) { totalCount } }', cost: 1 + 4 },
    { name: "the variables win over the variable's default", query: 'query($n: Int = 4) { devices(first: $n) { totalCount } }', variables: { n: 6 }, cost: 1 + 6 },
    { name: "first absent: the schema's default (devices: 50)", query: '{ devices { totalCount } }', cost: 1 + 50 },
    { name: "first null in the variables: the schema's default", query: 'query($n: Int) { devices(first: $n) { totalCount } }', variables: { n: null }, cost: 1 + 50 },
    { name: "first not a GraphQL Int (refused later, when variables are coerced): the schema's default", query: 'query($n: Int) { devices(first: $n) { totalCount } }', variables: { n: 2 ** 31 }, cost: 1 + 50 },
    { name: 'first 0 or below counts nothing below', query: '{ devices(first: -3) { totalCount } }', cost: 1 },
    { name: "last given alone: its size, not first's default", query: '{ devices(last: 7) { totalCount } }', cost: 1 + 7 },
    { name: 'last from the variables, above the default of first', query: 'query($n: Int) { devices(last: $n) { totalCount } }', variables: { n: 400 }, cost: 1 + 400 },
    { name: 'first and last together (refused later): the larger', query: '{ devices(first: 3, last: 9) { totalCount } }', cost: 1 + 9 },
    {
      name: "the edges right inside a paged field are counted once, by the connection's first",
      query: '{ devices(first: 5) { edges { node { id } } } }',
      cost: 1 + 5 * (1 + 1 * (1 + 1)),
    },
    {
      name: 'nested lists multiply',
      query: '{ devices(first: 5) { edges { node { connectionHistory(first: 3) { edges { node { at } } } certificates { id } } } } }',
      cost: 1 + 5 * (1 + (1 + (1 + 3 * (1 + (1 + 1))) + (1 + 10 * 1))),
    },
    { name: 'a named fragment counts as if written out', query: '{ devices(first: 5) { ...C } } fragment C on DeviceConnection { edges { node { id } } }', cost: 1 + 5 * 3 },
    { name: 'an inline fragment counts as if written out', query: '{ devices(first: 5) { ... on DeviceConnection { edges { node { id } } } } }', cost: 1 + 5 * 3 },
    { name: 'the introspection fields count like any other', query: '{ __schema { types { name } } }', cost: 1 + 1 + 10 * 1 },
    { name: "the README's example", query: '{ devices(first: 50) { edges { node { id lastConnection { at } } } } }', cost: 251 },
  ])('$name', ({ query, variables, cost }) => {
    expect(costOf(query, variables)).toBe(cost);
  });

  it('counts the variables of the request: the same document costs more with a larger page', () => {
    const query = 'query($n: Int) { devices(first: $n) { edges { node { id } } } }';
    const document = parse(query);
    expect(checkDocumentLimits(schema, document, { variables: { n: 333 } }, SMALL)).toBeUndefined();
    expect(checkDocumentLimits(schema, document, { variables: { n: 334 } }, SMALL)?.extensions.reason).toBe('QUERY_TOO_COSTLY');
  });
});

describe('fragments', () => {
  it('count as if expanded for depth, aliases and duplicates', () => {
    expect(depthOf('{ devices { ...E } } fragment E on DeviceConnection { edges { node { ... on Device { lastConnection { at } } } } }')).toBe(5);
    // One alias, in a fragment spread in two places: two aliases.
    expect(measureQuery(schema, parse('{ a: device(id: "1") { ...N } b: device(id: "2") { ...N } } fragment N on Device { n: name }'), {}).aliases).toBe(4);
    // A field selected directly and again through a fragment and an inline fragment.
    expect(measureQuery(schema, parse('{ myQueries { id ...Q ... on SavedQuery { id } } } fragment Q on SavedQuery { id }'), {}).duplicateFields).toBe(2);
  });

  it('spread twice in one place count once (graphql-js compares them once)', () => {
    expect(measureQuery(schema, parse('{ myQueries { ...Q ...Q ...Q } } fragment Q on SavedQuery { id }'), {}).duplicateFields).toBe(0);
  });

  it('that no operation spreads still count their aliases and duplicates (validation reads them)', () => {
    const query = '{ authStatusSummary { total } } fragment Unused on AuthStatusSummary { a: total b: total c: total d: total }';
    expect(reasonOf(query, SMALL)).toBe('TOO_MANY_ALIASES');
  });

  it.each([
    { name: 'a fragment spreading itself', query: '{ device(id: "1") { ...A } } fragment A on Device { id ...A }' },
    { name: 'two fragments spreading each other', query: '{ device(id: "1") { ...A } } fragment A on Device { certificates { device { ...B } } } fragment B on Device { ...A }' },
    { name: 'a cycle no operation reaches', query: '{ authStatusSummary { total } } fragment A on Device { ...B } fragment B on Device { ...A }' },
  ])('a cycle ($name) is walked once, and validation then refuses the document', ({ query }) => {
    const r = check(query, DEFAULT_QUERY_LIMITS);
    expect(r.error).toBeUndefined();
    expect(validate(schema, r.document!).map((e) => e.message).join(' ')).toMatch(/Cannot spread fragment "A" within itself/);
  });

  it('are measured once each: a fragment tree that would expand to 2^40 copies is measured and refused', () => {
    const levels = 40;
    const fragments = Array.from(
      { length: levels },
      (_, i) => `fragment F${i} on Device { certificates { device { ...F${i + 1} } } certificates { device { ...F${i + 1} } } }`,
    ).join(' ');
    const query = `{ device(id: "1") { ...F0 } } ${fragments} fragment F${levels} on Device { id }`;
    const m = measureQuery(schema, parse(query), {});
    expect(m.operations[0]!.depth).toBe(1 + 2 * levels + 1);
    expect(m.duplicateFields).toBeGreaterThan(2 ** 39);
    expect(reasonOf(query, UNLIMITED)).toBe('pass');
    expect(reasonOf(query, { ...UNLIMITED, maxDuplicateFields: DEFAULT_QUERY_LIMITS.maxDuplicateFields })).toBe('TOO_MANY_DUPLICATE_FIELDS');
  });
});

describe('operations', () => {
  const doc = 'query Small { authStatusSummary { total } } query Big { devices(first: 500) { edges { node { id } } } }';

  it('depth and cost count the operation named by operationName', () => {
    expect(reasonOf(doc, SMALL, { operationName: 'Small' })).toBe('pass');
    expect(reasonOf(doc, SMALL, { operationName: 'Big' })).toBe('QUERY_TOO_COSTLY');
  });

  it('with no operation named, every operation must pass', () => {
    expect(reasonOf(doc, SMALL)).toBe('QUERY_TOO_COSTLY');
    const m = measureQuery(schema, parse(doc), {});
    expect(m.operations.map((o) => o.name)).toEqual(['Small', 'Big']);
  });

  it('aliases count in every operation of the document, named or not (validation reads them all)', () => {
    const aliased = 'query Small { authStatusSummary { total } } query Other { a: myQueries { id } b: myQueries { id } c: myQueries { id } d: myQueries { id } }';
    expect(reasonOf(aliased, SMALL, { operationName: 'Small' })).toBe('TOO_MANY_ALIASES');
  });
});

describe('refused before validation: the attacks that took the server down', () => {
  it('10,000 aliases are refused by the parser, which stops at the token limit', () => {
    const aliases = `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: authStatusSummary { total }`).join(' ')} }`;
    expect(reasonOf(aliases, DEFAULT_QUERY_LIMITS)).toBe('DOCUMENT_TOO_LARGE');
    expect(reasonOf(aliases, { ...DEFAULT_QUERY_LIMITS, maxDocumentBytes: 1e9 })).toBe('TOO_MANY_TOKENS');
    expect(() => parseWithinLimits(aliases, DEFAULT_QUERY_LIMITS)).toThrow(/more than 1,000 tokens/);
    // And past the parser, the alias limit.
    expect(reasonOf(aliases, { ...UNLIMITED, maxAliases: DEFAULT_QUERY_LIMITS.maxAliases })).toBe('TOO_MANY_ALIASES');
  });

  it('the same field selected 200 times (no alias, and as quadratic to validate) is refused', () => {
    expect(reasonOf(`{ ${'authStatusSummary { total } '.repeat(200)} }`, DEFAULT_QUERY_LIMITS)).toBe('TOO_MANY_DUPLICATE_FIELDS');
  });

  it("the 5 KB viewer query of 20 aliases × devices(first: 500) × connectionHistory(first: 500) is QUERY_TOO_COSTLY", () => {
    const hostile = `{ ${Array.from(
      { length: 20 },
      (_, i) =>
        `a${i}: devices(first: 500) { edges { node { id name connectionHistory(first: 500) { edges { node { at result failureReason } } } certificates { id serialNumber device { id name certificates { id } } } } } }`,
    ).join(' ')} }`;
    const r = check(hostile, DEFAULT_QUERY_LIMITS);
    expect(r.error?.extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY', limit: DEFAULT_QUERY_LIMITS.maxCost });
    expect(r.error!.extensions.found as number).toBeGreaterThan(20 * 500 * 500);
  });

  it('a query that is not GraphQL comes back as its syntax error, not as a limit', () => {
    const r = check('{ authStatusSummary { total }', DEFAULT_QUERY_LIMITS);
    expect(r.error?.message).toMatch(/^Syntax Error/);
    expect(isLimitError(r.error)).toBe(false);
  });

  it('checkDocumentSize measures only a text that could be over the limit', () => {
    expect(checkDocumentSize('x'.repeat(60), SMALL)).toBeUndefined();
    expect(checkDocumentSize('€'.repeat(66), SMALL)).toBeUndefined(); // 198 bytes
    expect(checkDocumentSize('€'.repeat(67), SMALL)?.extensions).toMatchObject({ reason: 'DOCUMENT_TOO_LARGE', found: 201 });
  });
});

describe('the defaults let real clients through with room', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const readmeQueries = [...readme.matchAll(/-d '(\{"query":.*?\})'/g)].map((m) => (JSON.parse(m[1]!) as { query: string }).query);
  readmeQueries.push(...[...readme.matchAll(/query: '(subscription [^']*)'/g)].map((m) => m[1]!));
  const operationFiles = ['client-access', 'devices', 'saved-queries', 'summary'].map((name) =>
    readFileSync(new URL(`../../../test/operations/${name}.graphql`, import.meta.url), 'utf8'),
  );
  const operations = operationFiles.flatMap((source) =>
    parse(source)
      .definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
      .map((d) => ({ source, operationName: d.name!.value })),
  );
  const deviceFields = 'id name agentId agentVersion isCoreServer authStatus failureReason fullyManageable';
  const connection = 'at source result failureReason agentVersion certificateSerialNumber';
  const clients: { name: string; query: string; variables?: Record<string, unknown> }[] = [
    { name: 'the introspection query', query: getIntrospectionQuery() },
    {
      name: 'the introspection query with every option (codegen, tools)',
      query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }),
    },
    {
      name: 'a console listing devices(first: 50) with lastConnection',
      query: `{ devices(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${deviceFields} lastConnection { ${connection} } } } } }`,
    },
    {
      name: 'a device detail with connectionHistory(first: 20) and certificates',
      query: `query($id: ID!) { device(id: $id) { ${deviceFields} lastConnection { ${connection} } inventory { path value } connectionHistory(first: 20) { pageInfo { hasNextPage endCursor } edges { cursor node { ${connection} } } } certificates { id status subject keyAlgorithm serialNumber notBefore notAfter revokedAt revocationReason } } }`,
      variables: { id: '1' },
    },
    {
      name: 'a script paging devices(first: 500) with a few scalar fields',
      query: 'query($after: String) { devices(first: 500, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id name agentId authStatus failureReason } } } }',
    },
    {
      name: 'approveClients with 500 ids written in the query',
      query: `mutation { approveClients(ids: [${Array.from({ length: 500 }, (_, i) => `"${i + 1}"`).join(', ')}]) { approved { id status serialNumber device { id name authStatus } } failed { id code message } } }`,
    },
    {
      name: 'a dashboard with every chart item as an alias',
      query: `{ ${['AUTHENTICATION_SUCCEEDED', 'NO_AUTHENTICATION_INFO', 'AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'].map((s, i) => `s${i}: devices(first: 50, filter: { authStatus: [${s}] }) { totalCount edges { node { ${deviceFields} } } }`).join(' ')} }`,
    },
  ];

  it('the README has the queries this test reads', () => {
    expect(readmeQueries.length).toBeGreaterThanOrEqual(6);
  });

  it.each(readmeQueries.map((query) => ({ query })))('README: $query', ({ query }) => {
    expect(check(query, DEFAULT_QUERY_LIMITS).error).toBeUndefined();
  });

  it.each(operations)('test/operations: $operationName, with the largest pages (first 500)', ({ source, operationName }) => {
    const variables = { first: 500, historyFirst: 20 };
    expect(check(source, DEFAULT_QUERY_LIMITS, { operationName, variables }).error).toBeUndefined();
  });

  it.each(clients)('$name', ({ query, variables }) => {
    const r = check(query, DEFAULT_QUERY_LIMITS, { variables });
    expect(r.error).toBeUndefined();
    expect(validate(schema, r.document!)).toEqual([]);
    // With room: each passes at about half of every limit (500 written-out ids are 530 tokens, the
    // introspection query's cost 52% of the limit, its depth 15 of 20).
    const half: QueryLimits = {
      maxDocumentBytes: DEFAULT_QUERY_LIMITS.maxDocumentBytes / 2,
      maxTokens: DEFAULT_QUERY_LIMITS.maxTokens / 2 + 50,
      maxDepth: Math.floor(DEFAULT_QUERY_LIMITS.maxDepth * 0.75),
      maxAliases: DEFAULT_QUERY_LIMITS.maxAliases / 2,
      maxDuplicateFields: DEFAULT_QUERY_LIMITS.maxDuplicateFields / 2,
      maxCost: DEFAULT_QUERY_LIMITS.maxCost * 0.55,
    };
    expect(check(query, half, { variables }).error).toBeUndefined();
  });
});

describe('createConnectionCounter', () => {
  it('admits up to its maximum per token, counts tokens apart, and frees a place on release', () => {
    const counter = createConnectionCounter(2);
    const a1 = counter.acquire('token-a');
    const a2 = counter.acquire('token-a');
    expect(a1 && a2).toBeTruthy();
    expect(counter.acquire('token-a')).toBeUndefined();
    expect(counter.acquire('token-b')).toBeDefined();
    a1!();
    a1!(); // twice is once
    expect(counter.acquire('token-a')).toBeDefined();
    expect(counter.acquire('token-a')).toBeUndefined();
  });

  it('forgets a token once its last socket is released, so it holds no more than the open sockets', () => {
    const counter = createConnectionCounter(3);
    const releases = Array.from({ length: 100 }, (_, i) => counter.acquire(`token-${i}`)!);
    expect(counter.tokens).toBe(100);
    for (const release of releases) release();
    expect(counter.tokens).toBe(0);
  });
});
