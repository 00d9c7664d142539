import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  parse,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  valueFromAST,
  GraphQLError,
  GraphQLInt,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLFormattedError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Request, RequestHandler } from 'express';
import { createHash } from 'node:crypto';
import type { QueryLimits, WebSocketLimits } from '../config.js';
import { AppError } from '../services/app-error.js';

export type { QueryLimits, WebSocketLimits };

/**
 * Limits on what one GraphQL request may ask, checked before validation and execution, over HTTP
 * and graphql-ws alike. Parsing, validating and executing cost more than the text of a query
 * suggests: graphql-js's OverlappingFieldsCanBeMerged rule compares every pair of fields selected
 * under the same name in one place (quadratic), and a few nested lists with `first: 500` multiply
 * into millions of objects. So a query is measured on its syntax tree alone, with fragments
 * expanded, and refused with a reason before any of that runs.
 */

/** The defaults: every query of the README, test/operations, the introspection query and the contract's typical clients pass with room. */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDocumentBytes: 32 * 1024,
  maxTokens: 1000,
  maxDepth: 20,
  maxAliases: 30,
  maxDuplicateFields: 30,
  maxCost: 100_000,
};

/** What one graphql-ws socket, and the sockets of one token, may hold. */

export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = {
  maxMessageBytes: DEFAULT_QUERY_LIMITS.maxDocumentBytes + 64 * 1024,
  maxSubscriptionsPerSocket: 10,
  maxConnectionsPerToken: 8,
  documentCacheBytes: 8 * 1024 * 1024,
};

/** A list field without a `first` argument is counted as this many times what it selects. */
export const UNPAGED_LIST_FACTOR = 10;

const MAX_INT = 2 ** 31 - 1;

export type LimitReason =
  | 'DOCUMENT_TOO_LARGE'
  | 'TOO_MANY_TOKENS'
  | 'QUERY_TOO_DEEP'
  | 'TOO_MANY_ALIASES'
  | 'TOO_MANY_DUPLICATE_FIELDS'
  | 'QUERY_TOO_COSTLY';

/** The setting behind each limit, named in refusals so that a person knows what to change. */
const SETTING: Record<LimitReason, string> = {
  DOCUMENT_TOO_LARGE: 'GRAPHQL_MAX_DOCUMENT_BYTES',
  TOO_MANY_TOKENS: 'GRAPHQL_MAX_TOKENS',
  QUERY_TOO_DEEP: 'GRAPHQL_MAX_DEPTH',
  TOO_MANY_ALIASES: 'GRAPHQL_MAX_ALIASES',
  TOO_MANY_DUPLICATE_FIELDS: 'GRAPHQL_MAX_DUPLICATE_FIELDS',
  QUERY_TOO_COSTLY: 'GRAPHQL_MAX_COST',
};

/** limitError is a refusal: BAD_USER_INPUT with the limit's reason, its value and what the request had. */
export function limitError(reason: string, limit: number, found: number | undefined, message: string): AppError {
  return new AppError('BAD_USER_INPUT', message, { reason, limit, ...(found === undefined ? {} : { found }) });
}

/** isLimitError tells a refusal of limitError from any other error. */
export function isLimitError(err: unknown): err is AppError {
  return err instanceof AppError && typeof err.extensions.reason === 'string' && typeof err.extensions.limit === 'number';
}

function refuse(reason: LimitReason, limit: number, found: number | undefined, what: string, advice: string): AppError {
  const n = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'more than can be counted');
  return limitError(
    reason,
    limit,
    found === undefined || !Number.isFinite(found) ? undefined : Math.round(found),
    `${what}; this server accepts at most ${n(limit)} (${SETTING[reason]}). ${advice}, or ask the operator to raise ${SETTING[reason]}.`
      .replace('{found}', found === undefined ? '' : n(found)),
  );
}

/** tooManySubscriptions is the refusal of one more operation on a socket that has its maximum in progress. */
export function tooManySubscriptions(limit: number): AppError {
  return limitError(
    'TOO_MANY_SUBSCRIPTIONS',
    limit,
    undefined,
    `This connection already has ${limit} operations in progress (subscriptions, and queries not finished yet); ` +
      `this server accepts at most ${limit} per connection (GRAPHQL_WS_MAX_SUBSCRIPTIONS). Complete a subscription ` +
      'first, share one subscription among views, or ask the operator to raise GRAPHQL_WS_MAX_SUBSCRIPTIONS.',
  );
}

/**
 * createConnectionCounter counts the open sockets of each token. It keeps a hash of the token,
 * never the token, and forgets a token once its last socket closes, so it holds no more entries
 * than there are open sockets.
 */
export function createConnectionCounter(maxPerToken: number) {
  const open = new Map<string, number>();
  return {
    /** acquire counts one more socket for token and returns its release, or undefined when the token has its maximum open. */
    acquire(token: string): (() => void) | undefined {
      const key = createHash('sha256').update(token).digest('base64');
      const count = open.get(key) ?? 0;
      if (count >= maxPerToken) return undefined;
      open.set(key, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(key) ?? 1) - 1;
        if (left <= 0) open.delete(key);
        else open.set(key, left);
      };
    },
    /** tokens is how many distinct tokens have a socket open. */
    get tokens() {
      return open.size;
    },
  };
}

/**
 * queryLimitsMiddleware applies the limits to GraphQL over HTTP, in front of Apollo Server: every
 * request (POST body or GET parameters) is measured with its own variables and operation before
 * Apollo parses, validates or executes it, also when Apollo has the document cached. (Apollo's
 * plugin hooks before validation cannot refuse a request: an error thrown there becomes a 500.)
 * A query that is not GraphQL is passed on for Apollo to report as usual.
 */
export function queryLimitsMiddleware(
  schema: GraphQLSchema,
  limits: QueryLimits,
  format: (err: GraphQLError) => GraphQLFormattedError,
): RequestHandler {
  return (req, res, next) => {
    const request = graphqlRequestOf(req);
    if (!request) return next();
    const { error } = checkQueryLimits(schema, request, limits);
    if (!error || !isLimitError(error)) return next();
    res.status(400).json({ errors: [format(error)] });
  };
}

/** graphqlRequestOf reads the query, operation name and variables of a GraphQL-over-HTTP request, as far as they are well formed. */
function graphqlRequestOf(req: Request): (QueryRequest & { source: string }) | undefined {
  if (req.method === 'POST') {
    const body: unknown = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
    const { query, operationName, variables } = body as Record<string, unknown>;
    if (typeof query !== 'string') return undefined;
    return {
      source: query,
      operationName: typeof operationName === 'string' ? operationName : undefined,
      variables: isRecord(variables) ? variables : undefined,
    };
  }
  if (req.method === 'GET') {
    const { query, operationName, variables } = req.query as Record<string, unknown>;
    if (typeof query !== 'string') return undefined;
    let parsed: unknown;
    try {
      parsed = typeof variables === 'string' ? JSON.parse(variables) : undefined;
    } catch {
      parsed = undefined; // Apollo refuses it
    }
    return { source: query, operationName: typeof operationName === 'string' ? operationName : undefined, variables: isRecord(parsed) ? parsed : undefined };
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** checkDocumentSize refuses a query text longer than the limit, before anything reads it. */
export function checkDocumentSize(source: string, limits: QueryLimits): AppError | undefined {
  // Only a string that could be over the limit is measured in UTF-8.
  if (source.length * 3 <= limits.maxDocumentBytes) return undefined;
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes <= limits.maxDocumentBytes) return undefined;
  return refuse(
    'DOCUMENT_TOO_LARGE',
    limits.maxDocumentBytes,
    bytes,
    `The query is {found} bytes long`,
    'Send a shorter query (values belong in variables)',
  );
}

/**
 * parseWithinLimits parses a query, stopping as soon as it has more tokens than the limit. A
 * refusal is a limit error (TOO_MANY_TOKENS); a query that is not GraphQL throws graphql-js's
 * syntax error as it is.
 */
export function parseWithinLimits(source: string, limits: QueryLimits): DocumentNode {
  try {
    return parse(source, { maxTokens: limits.maxTokens });
  } catch (err) {
    // graphql-js says so only in its message: "Document contains more than N tokens. Parsing aborted."
    if (err instanceof GraphQLError && /^Syntax Error: Document contains more th[a-z]+ \d+ tokens\. Parsing aborted/.test(err.message)) {
      throw refuse(
        'TOO_MANY_TOKENS',
        limits.maxTokens,
        undefined,
        `The query has more than ${limits.maxTokens.toLocaleString('en-US')} tokens (names, values and punctuation)`,
        'Send a shorter query (values belong in variables, repeated selections in one fragment)',
      );
    }
    throw err;
  }
}

/** What one request asks for: its operation and variables. */
export interface QueryRequest {
  operationName?: string | null;
  variables?: Readonly<Record<string, unknown>> | null;
}

/** QueryMeasure is what checkDocumentLimits counts; exported for tests and for choosing limits. */
export interface QueryMeasure {
  /** Aliases and duplicate fields of the whole document (every operation, fragments expanded). */
  aliases: number;
  duplicateFields: number;
  /** Per operation that would run: its name (or undefined), depth and cost. */
  operations: { name: string | undefined; depth: number; cost: number }[];
}

/**
 * checkDocumentLimits measures a parsed (not yet validated) document and returns the refusal of
 * the first limit it exceeds, or undefined. Aliases and duplicate fields are counted over every
 * operation of the document, since validation reads them all; depth and cost over the operation
 * that runs (the one named, or each one when none is named).
 */
export function checkDocumentLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  request: QueryRequest,
  limits: QueryLimits,
): AppError | undefined {
  const m = measureQuery(schema, document, request);
  if (m.aliases > limits.maxAliases) {
    return refuse(
      'TOO_MANY_ALIASES',
      limits.maxAliases,
      m.aliases,
      'The query has {found} aliases (counting each place a fragment is spread)',
      'Ask for fewer aliased fields in one request',
    );
  }
  if (m.duplicateFields > limits.maxDuplicateFields) {
    return refuse(
      'TOO_MANY_DUPLICATE_FIELDS',
      limits.maxDuplicateFields,
      m.duplicateFields,
      'The query selects the same field again in the same place {found} times (counting fragments as expanded)',
      'Select each field once per place',
    );
  }
  for (const op of m.operations) {
    const name = op.name === undefined ? 'The query' : `Operation "${op.name}"`;
    if (op.depth > limits.maxDepth) {
      return refuse(
        'QUERY_TOO_DEEP',
        limits.maxDepth,
        op.depth,
        `${name} nests fields {found} levels deep`,
        'Select fewer levels of nested fields',
      );
    }
    if (op.cost > limits.maxCost) {
      return refuse(
        'QUERY_TOO_COSTLY',
        limits.maxCost,
        op.cost,
        `${name} may cost {found} (a field counts 1 plus what it selects times its \`first\`, a list without \`first\` ${UNPAGED_LIST_FACTOR} times)`,
        'Ask for smaller pages (first) or fewer nested lists, and page through the rest',
      );
    }
  }
  return undefined;
}

/** LimitedQuery is a query that passed the limits (with its document), or the refusal. */
export type LimitedQuery = { document: DocumentNode; error?: undefined } | { document?: undefined; error: GraphQLError };

/**
 * checkQueryLimits checks a whole request before validation: the size of its text, its tokens
 * while parsing, then checkDocumentLimits. A query that does not parse comes back as its syntax
 * error (not a limit error: isLimitError tells them apart).
 */
export function checkQueryLimits(
  schema: GraphQLSchema,
  request: QueryRequest & ({ source: string } | { document: DocumentNode }),
  limits: QueryLimits,
): LimitedQuery {
  let document: DocumentNode;
  if ('document' in request) {
    document = request.document;
  } else {
    const tooLarge = checkDocumentSize(request.source, limits);
    if (tooLarge) return { error: tooLarge };
    try {
      document = parseWithinLimits(request.source, limits);
    } catch (err) {
      if (err instanceof GraphQLError) return { error: err };
      throw err;
    }
  }
  const error = checkDocumentLimits(schema, document, request, limits);
  return error ? { error } : { document };
}

/** What a selection set adds up to. */
interface Measure {
  depth: number;
  aliases: number;
  cost: number;
  /** How many fields it selects at its own level under each response name (inline fragments and spreads merged in). */
  names: ReadonlyMap<string, number>;
  /** Duplicate fields counted below its own level, inside the fields it selects. */
  nestedDuplicates: number;
}

const NOTHING: Measure = Object.freeze({ depth: 0, aliases: 0, cost: 0, names: new Map(), nestedDuplicates: 0 });

/** duplicatesOf is every duplicate in a selection set: at its own level and below. */
function duplicatesOf(m: Measure): number {
  let here = 0;
  for (const count of m.names.values()) here += count - 1;
  return m.nestedDuplicates + here;
}

/**
 * measureQuery walks the document once per operation, each fragment measured once per operation
 * (memoized), so it stays linear in the document even when fragments spread fragments many times.
 * A fragment cycle is not followed a second time (validation then refuses the document with its
 * own message).
 */
export function measureQuery(schema: GraphQLSchema, document: DocumentNode, request: QueryRequest): QueryMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) {
      if (!fragments.has(def.name.value)) fragments.set(def.name.value, def);
    } else if (def.kind === Kind.OPERATION_DEFINITION) {
      operations.push(def);
    }
  }
  const variables = request.variables ?? {};
  const result: QueryMeasure = { aliases: 0, duplicateFields: 0, operations: [] };
  const reached = new Set<string>();
  for (const op of operations) {
    const walker = new Walker(schema, fragments, variables, op, reached);
    const m = walker.selectionSet(op.selectionSet, schema.getRootType(op.operation) ?? undefined, false);
    result.aliases += m.aliases;
    result.duplicateFields += duplicatesOf(m);
    const name = op.name?.value;
    if (!request.operationName || name === request.operationName) {
      result.operations.push({ name, depth: m.depth, cost: m.cost });
    }
  }
  // Fragments that no operation spreads are validated all the same.
  for (const name of fragments.keys()) {
    if (reached.has(name)) continue;
    const m = new Walker(schema, fragments, variables, undefined, reached).fragment(name, false);
    result.aliases += m.aliases;
    result.duplicateFields += duplicatesOf(m);
  }
  return result;
}

function typeNamed(schema: GraphQLSchema, name: string): GraphQLNamedType | undefined {
  return schema.getType(name) ?? undefined;
}

class Walker {
  // Per fragment, and whether it is spread right inside a paged field (see field()).
  private readonly memo = new Map<string, Measure | 'walking'>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Readonly<Record<string, unknown>>,
    private readonly operation: OperationDefinitionNode | undefined,
    private readonly reached: Set<string>,
  ) {}

  /** pagedParent: this is the selection set of a field with a `first` argument (a connection). */
  selectionSet(set: SelectionSetNode, parentType: GraphQLNamedType | undefined, pagedParent: boolean): Measure {
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    let nestedDuplicates = 0;
    const names = new Map<string, number>();
    const spread = new Set<string>();
    const add = (m: Measure) => {
      depth = Math.max(depth, m.depth);
      aliases += m.aliases;
      cost += m.cost;
      nestedDuplicates += m.nestedDuplicates;
      for (const [name, count] of m.names) names.set(name, (names.get(name) ?? 0) + count);
    };
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        add(this.field(selection, parentType, pagedParent));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? typeNamed(this.schema, selection.typeCondition.name.value) : parentType;
        add(this.selectionSet(selection.selectionSet, type, pagedParent));
      } else {
        // graphql-js compares a fragment spread twice in one place once; it is counted once too.
        const name = selection.name.value;
        if (spread.has(name)) continue;
        spread.add(name);
        add(this.fragment(name, pagedParent));
      }
    }
    return { depth, aliases, cost, names, nestedDuplicates };
  }

  fragment(name: string, pagedParent: boolean): Measure {
    const def = this.fragments.get(name);
    if (!def) return NOTHING; // an unknown fragment: validation says so
    this.reached.add(name);
    const key = `${pagedParent ? 'paged' : 'plain'}:${name}`;
    const known = this.memo.get(key);
    if (known === 'walking') return NOTHING; // a cycle
    if (known) return known;
    this.memo.set(key, 'walking');
    const m = this.selectionSet(def.selectionSet, typeNamed(this.schema, def.typeCondition.name.value), pagedParent);
    this.memo.set(key, m);
    return m;
  }

  /**
   * A field costs 1 plus what it selects times its factor: its `first` when it takes one; for a
   * list without `first`, UNPAGED_LIST_FACTOR, or 1 right inside a paged field (the edges of a
   * connection, already counted by the connection's `first`); otherwise 1.
   */
  private field(node: FieldNode, parentType: GraphQLNamedType | undefined, pagedParent: boolean): Measure {
    const def = fieldDef(this.schema, parentType, node.name.value);
    const type = def ? getNamedType(def.type) : undefined;
    const first = def?.args.find((a) => a.name === 'first');
    const child = node.selectionSet
      ? this.selectionSet(node.selectionSet, type && isCompositeType(type) ? type : undefined, first !== undefined)
      : NOTHING;
    let factor = 1;
    if (first) factor = this.firstOf(node, first);
    else if (def && isListType(getNullableType(def.type))) factor = pagedParent ? 1 : UNPAGED_LIST_FACTOR;
    return {
      depth: 1 + child.depth,
      aliases: (node.alias ? 1 : 0) + child.aliases,
      cost: 1 + factor * child.cost,
      names: new Map([[(node.alias ?? node.name).value, 1]]),
      nestedDuplicates: duplicatesOf(child),
    };
  }

  /** firstOf is the page size a field asks for: its argument, else its variable, the variable's default, the schema's default. */
  private firstOf(node: FieldNode, arg: GraphQLArgument): number {
    const fallback = typeof arg.defaultValue === 'number' ? arg.defaultValue : UNPAGED_LIST_FACTOR;
    const given = node.arguments?.find((a) => a.name.value === 'first')?.value;
    const value = given ? this.valueOf(given) : undefined;
    // A value that is not a GraphQL Int is refused when variables are coerced; until then it is the default.
    return Number.isInteger(value) && (value as number) <= MAX_INT ? Math.max(0, value as number) : fallback;
  }

  private valueOf(node: ValueNode): unknown {
    if (node.kind === Kind.INT) return Number(node.value);
    if (node.kind !== Kind.VARIABLE) return undefined;
    const name = node.name.value;
    if (Object.prototype.hasOwnProperty.call(this.variables, name)) {
      const given = this.variables[name];
      if (given !== null && given !== undefined) return given;
    }
    const declared = this.operation?.variableDefinitions?.find((v) => v.variable.name.value === name);
    return declared?.defaultValue ? valueFromAST(declared.defaultValue, GraphQLInt) : undefined;
  }
}

function fieldDef(
  schema: GraphQLSchema,
  parentType: GraphQLNamedType | undefined,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parentType && parentType === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  if (!parentType || !('getFields' in parentType)) return undefined;
  return (parentType.getFields() as Record<string, GraphQLField<unknown, unknown>>)[name];
}
