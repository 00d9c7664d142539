import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type Token } from 'graphql';

// Live subscriptions send the same event to many subscribers, most of them with the same query:
// the document cache parses and validates each distinct query once, for every socket that sends
// it (shared-execution.ts then executes each event once per distinct request).

export type ParsedQuery = { document: DocumentNode } | { errors: readonly GraphQLError[] };

/**
 * A parsed document takes far more memory than its text: measured with graphql 16, 270 to 450
 * bytes per token (its nodes, and the tokens its locations keep), so 1,000 tokens written in 3 KB
 * take about 450 KB. The cache weighs each document by this estimate, not by its text alone.
 */
export const BYTES_PER_TOKEN = 450;

export interface DocumentCacheOptions {
  /** Estimated memory of every cached document together; the least recently used go first. */
  maxBytes?: number;
  /** A document estimated larger than this is parsed and validated for its caller, never cached. */
  maxEntryBytes?: number;
  /** parse turns a query into a document or throws a GraphQLError (default: graphql's parse). */
  parse?: (query: string) => DocumentNode;
}

/** The defaults: room for about 700 typical subscription documents (some 25 tokens each). */
export const DOCUMENT_CACHE_DEFAULTS = { maxBytes: 8 * 1024 * 1024, maxEntryBytes: 128 * 1024 } as const;

/** CacheQuota is how many more documents one caller (a socket) may add to the cache. */
export interface CacheQuota {
  remaining: number;
}

/** What one get() asks besides the query: a check before validation, and whose quota an insertion uses. */
export interface DocumentRequest {
  /** check refuses a document before it is validated (and on every later hit): request limits. */
  check?(document: DocumentNode): GraphQLError | undefined;
  quota?: CacheQuota;
}

/** documentWeight estimates the memory a parsed document holds (see BYTES_PER_TOKEN). */
export function documentWeight(query: string, document: DocumentNode): number {
  let tokens = 0;
  for (let t: Token | null | undefined = document.loc?.startToken; t; t = t.next) tokens++;
  // The text is kept too (the document's source), at most two bytes a character.
  return query.length * 2 + tokens * BYTES_PER_TOKEN;
}

/**
 * createDocumentCache parses and validates a query once and hands every later caller the same
 * document. Its memory is bounded whoever calls it: by the estimated size of everything cached,
 * by a size above which a document is not cached at all, and by each caller's quota of new
 * entries (beyond it, the caller's documents are parsed for it and not kept).
 */
export function createDocumentCache(schema: GraphQLSchema, options: DocumentCacheOptions = {}) {
  const maxBytes = options.maxBytes ?? DOCUMENT_CACHE_DEFAULTS.maxBytes;
  const maxEntryBytes = Math.min(options.maxEntryBytes ?? DOCUMENT_CACHE_DEFAULTS.maxEntryBytes, maxBytes);
  const parseQuery = options.parse ?? ((query: string) => parse(query));
  const cache = new Map<string, { parsed: ParsedQuery; document: DocumentNode; weight: number }>();
  let bytes = 0;
  return {
    get(query: string, request: DocumentRequest = {}): ParsedQuery {
      const hit = cache.get(query);
      if (hit) {
        // Map keeps insertion order: re-inserting marks it most recently used.
        cache.delete(query);
        cache.set(query, hit);
        const refused = request.check?.(hit.document);
        return refused ? { errors: [refused] } : hit.parsed;
      }
      let document: DocumentNode;
      try {
        document = parseQuery(query);
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        // A refusal keeps its own code; a syntax error gets the one the HTTP path reports.
        return { errors: [typeof err.extensions.code === 'string' ? err : withCode(err, 'GRAPHQL_PARSE_FAILED')] };
      }
      const refused = request.check?.(document);
      if (refused) return { errors: [refused] };
      const errors = validate(schema, document);
      const parsed: ParsedQuery =
        errors.length > 0 ? { errors: errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) } : { document };
      const weight = documentWeight(query, document);
      if (weight > maxEntryBytes || (request.quota && request.quota.remaining <= 0)) return parsed;
      if (request.quota) request.quota.remaining--;
      cache.set(query, { parsed, document, weight });
      bytes += weight;
      for (const [key, entry] of cache) {
        if (bytes <= maxBytes) break;
        cache.delete(key);
        bytes -= entry.weight;
      }
      return parsed;
    },
    get size() {
      return cache.size;
    },
    /** bytes is the estimated memory of what is cached now. */
    get bytes() {
      return bytes;
    },
  };
}

/** withCode gives a parse or validation error the code the HTTP path reports for it. */
function withCode(err: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(err.message, {
    nodes: err.nodes,
    source: err.source,
    positions: err.positions,
    originalError: err.originalError,
    extensions: { ...err.extensions, code },
  });
}
