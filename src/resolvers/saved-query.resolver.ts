import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AuthStatus } from '../domain/statuses.js';
import { PAGE_ARGS } from '../schema/connection.type.js';
import { DeviceConnection } from '../schema/device.type.js';
import { AuthenticationStatus } from '../schema/enums.js';
import { SavedQuery } from '../schema/saved-query.type.js';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';
import type { SavedQueryView } from '../services/views.js';
import type { GraphQLContext } from './context.js';
import { pageArgs } from './page-args.js';

@Resolver(() => SavedQuery)
export class SavedQueryResolver {
  @Query(() => [SavedQuery], { description: "The caller's own saved queries (Queries > My queries). Any role." })
  myQueries(@Ctx() ctx: GraphQLContext) {
    return ctx.services.savedQueries.listMyQueries(ctx.caller);
  }

  @Query(() => SavedQuery, {
    nullable: true,
    description:
      "One of the caller's saved queries. Any role. Errors: BAD_USER_INPUT (not an id), NOT_FOUND (no such query, or someone else's).",
  })
  savedQuery(@Arg('id', () => ID, { description: "The saved query's id." }) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.savedQueries.getSavedQuery(ctx.caller, id);
  }

  @Mutation(() => SavedQuery, {
    description:
      "The chart's double-click: saves (or refreshes) the caller's query for a chart item under My queries > Chart-generated queries. SECURITY_ADMIN only (FORBIDDEN otherwise).",
  })
  createChartQuery(
    @Arg('status', () => AuthenticationStatus, {
      description: 'The chart item: the query lists the devices in this status.',
    })
    status: AuthStatus, @Ctx() ctx: GraphQLContext) {
    return ctx.services.savedQueries.createChartQuery(ctx.caller, status);
  }

  @Mutation(() => Boolean, {
    description:
      "Deletes one of the caller's saved queries; true when deleted. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (not an id), NOT_FOUND (no such query, or someone else's).",
  })
  deleteSavedQuery(@Arg('id', () => ID, { description: "The saved query's id." }) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.savedQueries.deleteSavedQuery(ctx.caller, id);
  }

  @FieldResolver(() => DeviceConnection, {
    description: 'The devices the query matches now (it is evaluated at each read). Errors: BAD_USER_INPUT (first or after malformed).',
  })
  devices(
    @Root() query: SavedQueryView,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE, description: PAGE_ARGS.first }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: PAGE_ARGS.after }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: PAGE_ARGS.last }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: PAGE_ARGS.before }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.savedQueries.listDevicesOfQuery(ctx.caller, query, pageArgs(info, { first, after, last, before }));
  }
}
