/**
 * FLEET_ID is the id of the objects that exist once per fleet: AuthStatusSummary and
 * SecuritySettings. Every replica of the core serves the same ones, so a constant names them, and a
 * client cache that keys objects on __typename and id (Apollo Client's InMemoryCache, urql's
 * graphcache) keeps one entry for each, which a query result, a mutation result and a subscription
 * push all update.
 */
export const FLEET_ID = 'fleet';

/** FLEET_ID_DESCRIPTION is what the schema says of such an id. */
export const FLEET_ID_DESCRIPTION =
  "Always 'fleet': there is one of these per fleet (every replica serves the same one). It lets a client cache keyed on __typename and id (e.g. Apollo Client's InMemoryCache) merge query results, mutation results and subscription pushes into one entry.";
