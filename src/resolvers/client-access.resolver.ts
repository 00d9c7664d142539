import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { RevocationReason as Reason } from '../domain/revocation.js';
import type { ClientCertificateStatus as Status } from '../domain/statuses.js';
import {
  BulkApprovePayload,
  BulkRejectPayload,
  ClientCertificate,
  ClientCertificateConnection,
  SecureDataItem,
} from '../schema/client-certificate.type.js';
import { ClientCertificateStatus, RevocationReason } from '../schema/enums.js';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';
import type { GraphQLContext } from './context.js';
import { BEFORE_DESCRIPTION, LAST_DESCRIPTION, pageArgs } from './page-args.js';

@Resolver()
export class ClientAccessResolver {
  @Query(() => ClientCertificateConnection, { description: 'Configure > Manage client access.' })
  clientAccessRequests(
    @Arg('status', () => ClientCertificateStatus, { nullable: true }) status: Status | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: LAST_DESCRIPTION }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: BEFORE_DESCRIPTION }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.listRequests(ctx.caller, { status, ...pageArgs(info, { first, after, last, before }) });
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
