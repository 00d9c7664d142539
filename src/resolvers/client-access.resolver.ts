import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { RevocationReason as Reason } from '../domain/revocation.js';
import type { ClientCertificateStatus as Status } from '../domain/statuses.js';
import {
  BulkApprovePayload,
  BulkRejectPayload,
  BulkRevokePayload,
  ClientAccessRequestFilter,
  ClientCertificate,
  ClientCertificateConnection,
  SecureDataItem,
} from '../schema/client-certificate.type.js';
import { PAGE_ARGS } from '../schema/connection.type.js';
import { ClientCertificateStatus, RevocationReason } from '../schema/enums.js';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';
import type { GraphQLContext } from './context.js';
import { pageArgs } from './page-args.js';

@Resolver()
export class ClientAccessResolver {
  @Query(() => ClientCertificateConnection, {
    description:
      'Configure > Manage client access: the client certificate requests and certificates, in the order they arrived; totalCount counts all that match. Any role. Errors: BAD_USER_INPUT (status together with filter.statuses, a bad search).',
  })
  clientAccessRequests(
    @Arg('status', () => ClientCertificateStatus, {
      nullable: true,
      description:
        'Only requests in this status; null: all. The older spelling of filter.statuses with one status: giving both is BAD_USER_INPUT.',
    })
    status: Status | null,
    @Arg('filter', () => ClientAccessRequestFilter, { nullable: true, description: 'Statuses and a search (the tabs and search box); null: all.' })
    filter: ClientAccessRequestFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE, description: PAGE_ARGS.first }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: PAGE_ARGS.after }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: PAGE_ARGS.last }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: PAGE_ARGS.before }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.listRequests(ctx.caller, { status, filter, ...pageArgs(info, { first, after, last, before }) });
  }

  @Mutation(() => ClientCertificate, {
    description:
      'Approves a PENDING request: the CA issues its certificate, and the device may authenticate with it. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (not an id), NOT_FOUND, REQUEST_NOT_PENDING (already decided; extensions.status says how).',
  })
  approveClient(@Arg('id', () => ID, { description: 'The id of the request.' }) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.clientAccess.approve(ctx.caller, id);
  }

  @Mutation(() => BulkApprovePayload, {
    description:
      'Approves up to 500 PENDING requests at once, in one transaction; each id that cannot be approved is listed under failed, the others are approved. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (more than 500 ids).',
  })
  approveClients(
    @Arg('ids', () => [ID], { description: 'The ids of the requests: at most 500; a repeated id counts once.' }) ids: string[],
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.approveMany(ctx.caller, ids);
  }

  @Mutation(() => ClientCertificate, {
    description:
      'Rejects a PENDING request: no certificate is issued. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (not an id, reason too long), NOT_FOUND, REQUEST_NOT_PENDING (already decided; extensions.status says how).',
  })
  rejectClient(
    @Arg('id', () => ID, { description: 'The id of the request.' }) id: string,
    @Arg('reason', () => String, {
      nullable: true,
      description: 'Why, kept in the audit log and sent to clientAccessDecided: at most 500 characters; null or blank: none.',
    })
    reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.reject(ctx.caller, id, reason);
  }

  @Mutation(() => BulkRejectPayload, {
    description:
      'Rejects up to 500 PENDING requests at once (e.g. an enrollment flood); each id that cannot be rejected is listed under failed. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (more than 500 ids, reason too long).',
  })
  rejectClients(
    @Arg('ids', () => [ID], { description: 'The ids of the requests: at most 500; a repeated id counts once.' }) ids: string[],
    @Arg('reason', () => String, {
      nullable: true,
      description: 'Why, for every one of them: at most 500 characters; null or blank: none.',
    })
    reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.rejectMany(ctx.caller, ids, reason);
  }

  @Mutation(() => ClientCertificate, {
    description:
      'Revokes an APPROVED certificate: a device authenticated with it turns to AUTHENTICATION_FAILED (CERTIFICATE_REVOKED) at once, and the CRL names it within the CRL window (CRL_WINDOW_MS, 1 s by default). SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (not an id), NOT_FOUND, CONFLICT (not APPROVED; extensions.status says what it is).',
  })
  revokeClientCertificate(
    @Arg('id', () => ID, { description: 'The id of the request whose certificate to revoke.' }) id: string,
    @Arg('reason', () => RevocationReason, {
      nullable: true,
      defaultValue: 'UNSPECIFIED',
      description: 'Why; written on the CRL.',
    })
    reason: Reason | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.revoke(ctx.caller, id, reason ?? 'UNSPECIFIED');
  }

  @Mutation(() => BulkRevokePayload, {
    description:
      'Revokes up to 500 APPROVED certificates at once, in one transaction, with one reason; each id that cannot be revoked is listed under failed (NOT_FOUND, CONFLICT when not APPROVED, BAD_USER_INPUT when not an id), the others are revoked as revokeClientCertificate would, and the CRL names them within the CRL window. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (more than 500 ids).',
  })
  revokeClientCertificates(
    @Arg('ids', () => [ID], { description: 'The ids of the requests whose certificates to revoke: at most 500; a repeated id counts once.' })
    ids: string[],
    @Arg('reason', () => RevocationReason, {
      nullable: true,
      defaultValue: 'UNSPECIFIED',
      description: 'Why, for every one of them; written on the CRL.',
    })
    reason: Reason | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.clientAccess.revokeMany(ctx.caller, ids, reason ?? 'UNSPECIFIED');
  }

  @Query(() => [SecureDataItem], {
    description:
      'The secrets the core hands to agents, by name. Names only: a value never leaves the core except encrypted to a device. Any role.',
  })
  secureDataItems(@Ctx() ctx: GraphQLContext) {
    return ctx.services.agentAuth.listSecureDataItems(ctx.caller);
  }

  @Mutation(() => SecureDataItem, {
    description:
      'Stores a secret for agents, sealed at rest, or replaces the value of the one of that name; the value never appears in the API or the audit log. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (name or value malformed).',
  })
  setSecureData(
    @Arg('name', () => String, {
      description: "The secret's name: 1 to 128 letters, digits, dots, underscores or dashes, starting with a letter or digit.",
    })
    name: string,
    @Arg('value', () => String, { description: 'The secret: 1 byte to 16 KiB of UTF-8.' }) value: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.agentAuth.setSecureData(ctx.caller, name, value);
  }
}
