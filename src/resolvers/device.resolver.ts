import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ClientCertificate } from '../schema/client-certificate.type.js';
import { ConnectionAttemptConnection, Device, DeviceConnection, DeviceFilter, DeviceInput } from '../schema/device.type.js';
import { DEFAULT_HISTORY_PAGE_SIZE } from '../services/device-service.js';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';
import type { DeviceView } from '../services/views.js';
import type { GraphQLContext } from './context.js';
import { BEFORE_DESCRIPTION, LAST_DESCRIPTION, pageArgs } from './page-args.js';

@Resolver(() => Device)
export class DeviceResolver {
  @Query(() => DeviceConnection)
  devices(
    @Arg('filter', () => DeviceFilter, { nullable: true }) filter: DeviceFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: LAST_DESCRIPTION }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: BEFORE_DESCRIPTION }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.devices.listDevices(ctx.caller, { filter, ...pageArgs(info, { first, after, last, before }) });
  }

  @Query(() => Device, { nullable: true })
  device(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.devices.getDevice(ctx.caller, id);
  }

  @Mutation(() => [Device], {
    description: 'Inventory import: devices known to the core before (or without) an agent enrolling.',
  })
  registerDevices(@Arg('devices', () => [DeviceInput]) devices: DeviceInput[], @Ctx() ctx: GraphQLContext) {
    return ctx.services.devices.registerDevices(ctx.caller, devices);
  }

  @FieldResolver(() => ConnectionAttemptConnection)
  connectionHistory(
    @Root() device: DeviceView,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_HISTORY_PAGE_SIZE }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('last', () => Int, { nullable: true, description: LAST_DESCRIPTION }) last: number | null,
    @Arg('before', () => String, { nullable: true, description: BEFORE_DESCRIPTION }) before: string | null,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: GraphQLContext,
  ) {
    const page = ctx.services.devices.checkHistoryPage(pageArgs(info, { first, after, last, before }));
    return ctx.loaders.history(page).load(device.dbId);
  }

  @FieldResolver(() => [ClientCertificate])
  certificates(@Root() device: DeviceView, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.certificates.load(device.dbId);
  }
}
