import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { SecuritySettings } from '../schema/security-settings.type.js';
import { AuthStatusSummary } from '../schema/summary.type.js';
import type { GraphQLContext } from './context.js';

@Resolver()
export class SecurityResolver {
  @Query(() => AuthStatusSummary)
  authStatusSummary(@Ctx() ctx: GraphQLContext) {
    return ctx.services.security.getAuthStatusSummary(ctx.caller);
  }

  @Query(() => SecuritySettings)
  securitySettings(@Ctx() ctx: GraphQLContext) {
    return ctx.services.security.getSecuritySettings(ctx.caller);
  }

  @Mutation(() => SecuritySettings, {
    description: 'Irreversible: there is no way back, and no mutation to disable it. Needs confirm: true.',
  })
  enableClientCertificateSecurity(@Arg('confirm', () => Boolean) confirm: boolean, @Ctx() ctx: GraphQLContext) {
    return ctx.services.security.enableClientCertificateSecurity(ctx.caller, confirm);
  }
}
