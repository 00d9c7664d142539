import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AuthStatus } from '../domain/statuses.js';
import { DeviceConnection } from '../schema/device.type.js';
import { AuthenticationStatus } from '../schema/enums.js';
import { SavedQuery } from '../schema/saved-query.type.js';
import type { SavedQueryView } from '../services/views.js';
import type { GraphQLContext } from './context.js';

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
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.savedQueries.listDevicesOfQuery(ctx.caller, query, { first: first ?? 50, after });
  }
}
