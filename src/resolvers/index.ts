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

const ERRORS_OF_EVERY_OPERATION =
  'Any operation may also fail with FORBIDDEN (the token carries no certfleet role), QUERY_TIMEOUT (too long, cancelled) or SERVICE_UNAVAILABLE (the database is away; try again in 5 s); a missing or bad token is UNAUTHENTICATED (HTTP 401; over graphql-ws, the socket is closed with 4401).';

const ROOT_DESCRIPTIONS = {
  query: `Reads. Every query needs a bearer token with the VIEWER or SECURITY_ADMIN role. ${ERRORS_OF_EVERY_OPERATION}`,
  mutation: `Changes. Every mutation needs the SECURITY_ADMIN role (a VIEWER gets FORBIDDEN); each change it makes is one transaction, audited. ${ERRORS_OF_EVERY_OPERATION}`,
  subscription: `Live updates over graphql-ws on the same /graphql URL (connectionParams: Authorization: 'Bearer <token>' or token: '<token>', each name in any case). Every subscription needs the VIEWER or SECURITY_ADMIN role.`,
};

/** buildGraphQLSchema assembles the served schema from the resolvers and the type-graphql types they reach. */
export async function buildGraphQLSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
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
  // type-graphql has no option for the root types' descriptions: set once here, before anything serves the schema.
  schema.getQueryType()!.description = ROOT_DESCRIPTIONS.query;
  schema.getMutationType()!.description = ROOT_DESCRIPTIONS.mutation;
  schema.getSubscriptionType()!.description = ROOT_DESCRIPTIONS.subscription;
  return schema;
}
