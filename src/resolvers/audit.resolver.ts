import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { AuditEventConnection } from '../schema/audit-event.type.js';
import { PAGE_ARGS } from '../schema/connection.type.js';
import type { GraphQLContext } from './context.js';

@Resolver()
export class AuditResolver {
  @Query(() => AuditEventConnection, {
    description: 'The audit log, newest first: every change made through the API, by agents and by the core. Any role.',
  })
  auditLog(
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: PAGE_ARGS.first }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: PAGE_ARGS.after }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.audit.listAuditLog(ctx.caller, { first: first ?? 50, after });
  }
}
