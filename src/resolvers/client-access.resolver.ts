import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { RevocationReason as Reason } from '../domain/revocation.js';
import type { ClientCertificateStatus as Status } from '../domain/statuses.js';
import {
  BulkApprovePayload,
  BulkRejectPayload,
  ClientAccessRequestFilter,
  ClientCertificate,
  ClientCertificateConnection,
  SecureDataItem,
} from '../schema/client-certificate.type.js';
import { ClientCertificateStatus, RevocationReason } from '../schema/enums.js';
import type { GraphQLContext } from './context.js';

@Resolver()
export class ClientAccessResolver {
  @Query(() => ClientCertificateConnection, {
    description: 'Configure > Manage client access: requests and certificates, oldest first; totalCount counts all that match.',
  })
  clientAccessRequests(
    @Arg('status', () => ClientCertificateStatus, {
      nullable: true,
      description: 'Only requests in this status. The older spelling of filter.statuses with one status: giving both is BAD_USER_INPUT.',
    })
    status: Status | null,
    @Arg('filter', () => ClientAccessRequestFilter, { nullable: true, description: 'Statuses and a search; see ClientAccessRequestFilter.' })
    filter: ClientAccessRequestFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.listRequests(ctx.caller, { status, filter, first: first ?? 50, after });
  }

  @Mutation(() => ClientCertificate)
  approveClient(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.clientAccess.approve(ctx.caller, id);
  }

  @Mutation(() => BulkApprovePayload)
  approveClients(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: GraphQLContext) {
    return ctx.services.clientAccess.approveMany(ctx.caller, ids);
  }

  @Mutation(() => ClientCertificate)
  rejectClient(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.reject(ctx.caller, id, reason);
  }

  @Mutation(() => BulkRejectPayload, {
    description: 'Rejects up to 500 PENDING requests at once (e.g. an enrollment flood); each id that cannot be rejected is listed under failed.',
  })
  rejectClients(
    @Arg('ids', () => [ID]) ids: string[],
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.rejectMany(ctx.caller, ids, reason);
  }

  @Mutation(() => ClientCertificate)
  revokeClientCertificate(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => RevocationReason, { nullable: true, defaultValue: 'UNSPECIFIED' }) reason: Reason | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.revoke(ctx.caller, id, reason ?? 'UNSPECIFIED');
  }

  @Query(() => [SecureDataItem], { description: 'Names only: a value never leaves the core except encrypted to a device.' })
  secureDataItems(@Ctx() ctx: GraphQLContext) {
    return ctx.services.agentAuth.listSecureDataItems(ctx.caller);
  }

  @Mutation(() => SecureDataItem)
  setSecureData(
    @Arg('name', () => String) name: string,
    @Arg('value', () => String) value: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.agentAuth.setSecureData(ctx.caller, name, value);
  }
}
