import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { MetricsSink } from '../metrics/sink.js';

/** UNRESOLVED names a request that never became an operation: not parsed, not valid, not authenticated, or refused by a limit. */
export const UNRESOLVED_OPERATION = 'unresolved';

/** codeOf is the code a formatted error carries (createFormatError gives every error one). */
const codeOf = (e: GraphQLFormattedError) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR');

/**
 * graphqlMetricsPlugin counts each GraphQL operation over HTTP by its name, kind and outcome, times
 * it from the start of Apollo's request pipeline to the response, and counts the error codes the
 * response carries. A request refused before the pipeline (no valid token) is counted, untimed.
 */
export function graphqlMetricsPlugin(metrics: MetricsSink): ApolloServerPlugin {
  return {
    async contextCreationDidFail({ error }) {
      const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
      metrics.graphqlOperation(UNRESOLVED_OPERATION, 'unknown', 'error');
      metrics.graphqlError(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
    },
    async requestDidStart() {
      const started = performance.now();
      let operation = UNRESOLVED_OPERATION;
      let type = 'unknown';
      return {
        async didResolveOperation(rc) {
          operation = rc.operationName ?? 'anonymous';
          type = rc.operation?.operation ?? 'unknown';
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
          for (const e of errors ?? []) metrics.graphqlError(codeOf(e));
          metrics.graphqlOperation(operation, type, errors && errors.length > 0 ? 'error' : 'ok', (performance.now() - started) / 1000);
        },
      };
    },
  };
}

/** countRefusal counts a request the query limits refused before Apollo saw it. */
export function countRefusal(metrics: MetricsSink, error: GraphQLFormattedError): void {
  metrics.graphqlOperation(UNRESOLVED_OPERATION, 'unknown', 'error');
  metrics.graphqlError(codeOf(error));
}
