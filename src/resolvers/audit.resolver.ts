import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, Info, Int, Query, Resolver } from 'type-graphql';
import { AuditEventConnection } from '../schema/audit-event.type.js';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';
import type { GraphQLContext } from './context.js';
import { BEFORE_DESCRIPTION, LAST_DESCRIPTION, pageArgs } from './page-args.js';

@Resolver()
export class AuditResolver {
  @Query(() => AuditEventConnection)
  auditLog(
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: LAST_DESCRIPTION }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: BEFORE_DESCRIPTION }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.audit.listAuditLog(ctx.caller, pageArgs(info, { first, after, last, before }));
  }
}
