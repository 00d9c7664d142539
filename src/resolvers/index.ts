import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { AuditResolver } from './audit.resolver.js';
import { ClientAccessResolver } from './client-access.resolver.js';
import { ClientCertificateResolver } from './client-certificate.resolver.js';
import { DeviceResolver } from './device.resolver.js';
import { LiveResolver } from './live.resolver.js';
import { SavedQueryResolver } from './saved-query.resolver.js';
import { SecurityResolver } from './security.resolver.js';
import { DateTime } from '../schema/scalars.js';

// The resolvers the API serves, composed here, where the schema is built: src/schema/ holds only the types they use.

/** buildGraphQLSchema assembles the served schema from the resolvers and the type-graphql types they reach. */
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
