import { Kind, type GraphQLResolveInfo } from 'graphql';
import type { PageArgs } from '../services/pagination.js';

/**
 * pageArgs hands a list's paging arguments to its service as the caller gave them. graphql-js
 * fills in first's schema default before a resolver runs, so `last: 10` alone would arrive as
 * first and last together; first counts only when the request names it (literally, or through a
 * variable that has a value), and its default is then applied by the service.
 */
export function pageArgs(
  info: GraphQLResolveInfo,
  args: { first: number | null; after: string | null; last: number | null; before: string | null },
): PageArgs {
  return { ...args, first: named(info, 'first') ? args.first : null };
}

/** named says whether the request gives this argument of the field a non-null value. */
function named(info: GraphQLResolveInfo, argument: string): boolean {
  // Fields merged under one response name have the same arguments (validation), so the first node tells.
  const value = info.fieldNodes[0]?.arguments?.find((a) => a.name.value === argument)?.value;
  if (!value || value.kind === Kind.NULL) return false;
  if (value.kind !== Kind.VARIABLE) return true;
  const v = info.variableValues[value.name.value];
  return v !== null && v !== undefined;
}
