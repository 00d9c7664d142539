import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { AuditResolver } from '../resolvers/audit.resolver.js';
import { ClientAccessResolver } from '../resolvers/client-access.resolver.js';
import { ClientCertificateResolver } from '../resolvers/client-certificate.resolver.js';
import { DeviceResolver } from '../resolvers/device.resolver.js';
import { LiveResolver } from '../resolvers/live.resolver.js';
import { SavedQueryResolver } from '../resolvers/saved-query.resolver.js';
import { SecurityResolver } from '../resolvers/security.resolver.js';
import { DateTime } from './scalars.js';

/** buildGraphQLSchema assembles the served schema from the type-graphql classes. */
export async function buildGraphQLSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      SecurityResolver,
      DeviceResolver,
      ClientAccessResolver,
      ClientCertificateResolver,
      SavedQueryResolver,
      AuditResolver,
      LiveResolver,
    ],
    scalarsMap: [{ type: Date, scalar: DateTime }],
    // Arguments are checked in the services, where every rule lives; see src/services/input-checks.ts.
    validate: false,
    // Every subscription streams from the live hub through its own subscribe function; type-graphql
    // still wants a PubSub, and this one says so if anything ever uses topics.
    pubSub: {
      publish() {
        throw new Error('subscriptions are served by the live hub, not by topics');
      },
      subscribe() {
        throw new Error('subscriptions are served by the live hub, not by topics');
      },
    },
  });
}
