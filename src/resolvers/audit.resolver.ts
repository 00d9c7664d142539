import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { AuditEventConnection } from '../schema/audit-event.type.js';
import type { GraphQLContext } from './context.js';

@Resolver()
export class AuditResolver {
  @Query(() => AuditEventConnection)
  auditLog(
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.audit.listAuditLog(ctx.caller, { first: first ?? 50, after });
  }
}
