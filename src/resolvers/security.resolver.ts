import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { SecuritySettings } from '../schema/security-settings.type.js';
import { AuthStatusSummary } from '../schema/summary.type.js';
import { Viewer } from '../schema/viewer.type.js';
import type { GraphQLContext } from './context.js';

@Resolver()
export class SecurityResolver {
  @Query(() => Viewer, {
    description:
      'The caller: the subject and roles of the bearer token, so a console can show who is signed in and offer only what the roles allow (the server checks every operation anyway). Needs a valid token; no role.',
  })
  me(@Ctx() ctx: GraphQLContext): Viewer {
    return { subject: ctx.caller.subject, roles: [...ctx.caller.roles] };
  }

  @Query(() => AuthStatusSummary, {
    description:
      'The Security settings chart: how many devices have each status. Any role. For live updates subscribe to authStatusSummaryChanged.',
  })
  authStatusSummary(@Ctx() ctx: GraphQLContext) {
    return ctx.services.security.getAuthStatusSummary(ctx.caller);
  }

  @Query(() => SecuritySettings, { description: 'The Security settings page: the switch, the CA, the devices not ready. Any role.' })
  securitySettings(@Ctx() ctx: GraphQLContext) {
    return ctx.services.security.getSecuritySettings(ctx.caller);
  }

  @Mutation(() => SecuritySettings, {
    description:
      'Enables client certificate-based security for the fleet. Irreversible: there is no way back, and no mutation to disable it. Needs confirm: true. A second call changes nothing and keeps the first enabledAt and enabledBy. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (confirm is not true).',
  })
  enableClientCertificateSecurity(
    @Arg('confirm', () => Boolean, {
      description: 'Must be true: says the caller knows it cannot be undone.',
    })
    confirm: boolean, @Ctx() ctx: GraphQLContext) {
    return ctx.services.security.enableClientCertificateSecurity(ctx.caller, confirm);
  }
}
