import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  valueFromAST,
  GraphQLInt,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

// The measuring walk behind the request limits (query-limits.ts): a query's depth, aliases,
// duplicate fields and cost, read from its syntax tree alone (fragments expanded), before it is
// validated or run. It knows nothing of the limits themselves nor of HTTP or graphql-ws.

/** A list field without a `first` argument is counted as this many times what it selects. */
export const UNPAGED_LIST_FACTOR = 10;

const MAX_INT = 2 ** 31 - 1;

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
   * A field costs 1 plus what it selects times its factor: its page size (`first` or `last`) when
   * it takes `first`; for a list without `first`, UNPAGED_LIST_FACTOR, or 1 right inside a paged
   * field (the edges of a connection, already counted by the connection's page size); otherwise 1.
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

  /**
   * firstOf is the page size a field asks for: the larger of its `first` and `last` given (each its
   * argument, else its variable, else the variable's default), else the schema's default of `first`.
   */
  private firstOf(node: FieldNode, arg: GraphQLArgument): number {
    const fallback = typeof arg.defaultValue === 'number' ? arg.defaultValue : UNPAGED_LIST_FACTOR;
    const sizes = ['first', 'last'].flatMap((name) => {
      const given = node.arguments?.find((a) => a.name.value === name)?.value;
      const value = given ? this.valueOf(given) : undefined;
      // A value that is not a GraphQL Int is refused when variables are coerced; until then it is not counted.
      return Number.isInteger(value) && (value as number) <= MAX_INT ? [Math.max(0, value as number)] : [];
    });
    return sizes.length > 0 ? Math.max(...sizes) : fallback;
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
