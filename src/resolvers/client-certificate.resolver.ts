import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { ClientCertificate } from '../schema/client-certificate.type.js';
import { Device } from '../schema/device.type.js';
import type { ClientCertificateView } from '../services/views.js';
import type { GraphQLContext } from './context.js';

@Resolver(() => ClientCertificate)
export class ClientCertificateResolver {
  @FieldResolver(() => Device, { description: 'The device that asked for it.' })
  async device(@Root() cert: ClientCertificateView, @Ctx() ctx: GraphQLContext) {
    const device = await ctx.loaders.device.load(cert.deviceId);
    if (!device) throw new Error(`client certificate ${cert.id} refers to missing device ${cert.deviceId}`);
    return device;
  }
}
