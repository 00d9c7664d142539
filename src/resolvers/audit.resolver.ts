import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, Info, Int, Query, Resolver } from 'type-graphql';
import { AuditEventConnection } from '../schema/audit-event.type.js';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';
import { PAGE_ARGS } from '../schema/connection.type.js';
import type { GraphQLContext } from './context.js';
import { pageArgs } from './page-args.js';

@Resolver()
export class AuditResolver {
  @Query(() => AuditEventConnection, {
    description: 'The audit log, newest first: every change made through the API, by agents and by the core. Any role.',
  })
  auditLog(
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE, description: PAGE_ARGS.first }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: PAGE_ARGS.after }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: PAGE_ARGS.last }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: PAGE_ARGS.before }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.audit.listAuditLog(ctx.caller, pageArgs(info, { first, after, last, before }));
  }
}
