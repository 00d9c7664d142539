import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ClientCertificate } from '../schema/client-certificate.type.js';
import { ConnectionAttemptConnection, Device, DeviceConnection, DeviceFilter, DeviceInput } from '../schema/device.type.js';
import type { DeviceView } from '../services/views.js';
import type { GraphQLContext } from './context.js';

@Resolver(() => Device)
export class DeviceResolver {
  @Query(() => DeviceConnection)
  devices(
    @Arg('filter', () => DeviceFilter, { nullable: true }) filter: DeviceFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.devices.listDevices(ctx.caller, { filter, first: first ?? 50, after });
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
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    const page = ctx.services.devices.checkHistoryPage(first ?? 20, after);
    return ctx.loaders.history(page.first, page.beforeId).load(device.dbId);
  }

  @FieldResolver(() => [ClientCertificate])
  certificates(@Root() device: DeviceView, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.certificates.load(device.dbId);
  }
}
