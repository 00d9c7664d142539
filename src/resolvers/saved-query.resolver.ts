import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AuthStatus } from '../domain/statuses.js';
import { DeviceConnection } from '../schema/device.type.js';
import { AuthenticationStatus } from '../schema/enums.js';
import { SavedQuery } from '../schema/saved-query.type.js';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';
import type { SavedQueryView } from '../services/views.js';
import type { GraphQLContext } from './context.js';
import { BEFORE_DESCRIPTION, LAST_DESCRIPTION, pageArgs } from './page-args.js';

@Resolver(() => SavedQuery)
export class SavedQueryResolver {
  @Query(() => [SavedQuery])
  myQueries(@Ctx() ctx: GraphQLContext) {
    return ctx.services.savedQueries.listMyQueries(ctx.caller);
  }

  @Query(() => SavedQuery, { nullable: true })
  savedQuery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.savedQueries.getSavedQuery(ctx.caller, id);
  }

  @Mutation(() => SavedQuery, {
    description: "The chart's double-click: saves (or refreshes) the query under My queries > Chart-generated queries.",
  })
  createChartQuery(@Arg('status', () => AuthenticationStatus) status: AuthStatus, @Ctx() ctx: GraphQLContext) {
    return ctx.services.savedQueries.createChartQuery(ctx.caller, status);
  }

  @Mutation(() => Boolean)
  deleteSavedQuery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.savedQueries.deleteSavedQuery(ctx.caller, id);
  }

  @FieldResolver(() => DeviceConnection)
  devices(
    @Root() query: SavedQueryView,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: LAST_DESCRIPTION }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: BEFORE_DESCRIPTION }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.savedQueries.listDevicesOfQuery(ctx.caller, query, pageArgs(info, { first, after, last, before }));
  }
}
