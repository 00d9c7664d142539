import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ClientCertificate } from '../schema/client-certificate.type.js';
import { PAGE_ARGS } from '../schema/connection.type.js';
import { ConnectionAttemptConnection, Device, DeviceConnection, DeviceFilter, DeviceInput } from '../schema/device.type.js';
import { DEFAULT_HISTORY_PAGE_SIZE } from '../services/device-service.js';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';
import type { DeviceView } from '../services/views.js';
import type { GraphQLContext } from './context.js';
import { pageArgs } from './page-args.js';

@Resolver(() => Device)
export class DeviceResolver {
  @Query(() => DeviceConnection, {
    description:
      'The devices of the fleet, in the order they became known, optionally filtered. Any role. Errors: BAD_USER_INPUT (first, after or filter malformed).',
  })
  devices(
    @Arg('filter', () => DeviceFilter, { nullable: true, description: 'Which devices to list; null: all.' }) filter: DeviceFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE, description: PAGE_ARGS.first }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: PAGE_ARGS.after }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: PAGE_ARGS.last }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: PAGE_ARGS.before }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.devices.listDevices(ctx.caller, { filter, ...pageArgs(info, { first, after, last, before }) });
  }

  @Query(() => Device, {
    nullable: true,
    description: 'One device. Any role. Errors: BAD_USER_INPUT (not an id), NOT_FOUND (no such device).',
  })
  device(@Arg('id', () => ID, { description: "The device's id." }) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.devices.getDevice(ctx.caller, id);
  }

  @Mutation(() => [Device], {
    description:
      'Inventory import: devices known to the core before (or without) an agent enrolling. All or nothing: one bad item imports none. A device already known (same agentId, or same name without one) is updated, not duplicated; the answer lists the devices in the order given. SECURITY_ADMIN only (FORBIDDEN otherwise). Errors: BAD_USER_INPUT (no devices, more than 1000, an item malformed or repeated; extensions.argument names it).',
  })
  registerDevices(
    @Arg('devices', () => [DeviceInput], { description: 'The devices: 1 to 1000.' }) devices: DeviceInput[], @Ctx() ctx: GraphQLContext) {
    return ctx.services.devices.registerDevices(ctx.caller, devices);
  }

  @FieldResolver(() => ConnectionAttemptConnection, {
    description:
      "The device's connection attempts, newest first: those that counted and the unverified ones kept. Errors: BAD_USER_INPUT (first or after malformed).",
  })
  connectionHistory(
    @Root() device: DeviceView,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_HISTORY_PAGE_SIZE, description: PAGE_ARGS.first }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: PAGE_ARGS.after }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: PAGE_ARGS.last }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: PAGE_ARGS.before }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    const page = ctx.services.devices.checkHistoryPage(pageArgs(info, { first, after, last, before }));
    return ctx.loaders.history(page).load(device.dbId);
  }

  @FieldResolver(() => [ClientCertificate], { description: "The device's client certificate requests and certificates, oldest first." })
  certificates(@Root() device: DeviceView, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.certificates.load(device.dbId);
  }
}
