import { Arg, Resolver, Root, Subscription } from 'type-graphql';
import type { AuthStatus, ClientAccessDecision as Decision } from '../domain/statuses.js';
import type { AccessDecision, DeviceStatusChange } from '../events/live-hub.js';
import { ClientAccessDecision, ClientCertificate } from '../schema/client-certificate.type.js';
import { DeviceAuthStatusChange } from '../schema/device.type.js';
import { AuthenticationStatus, ClientAccessDecisionKind } from '../schema/enums.js';
import { AuthStatusSummary } from '../schema/summary.type.js';
import { requireViewer } from '../services/caller.js';
import type { AuthStatusSummaryView, ClientCertificateView } from '../services/views.js';
import type { GraphQLContext } from './context.js';

// Subscribing is checked like a query (VIEWER or more); the hub then streams without further reads per subscriber.
const live = ({ context }: { context: unknown }) => {
  const ctx = context as GraphQLContext;
  requireViewer(ctx.caller);
  return ctx.live;
};

@Resolver()
export class LiveResolver {
  @Subscription(() => AuthStatusSummary, {
    description:
      "Emits the current summary at once, then after every change (coalesced; the last message of a burst is the final state). Its id is always 'fleet', as the query authStatusSummary's: a client cache keyed on __typename and id updates the cached query with each push. Any role.",
    subscribe: (data) => live(data).summaries(),
  })
  authStatusSummaryChanged(@Root() summary: AuthStatusSummaryView): AuthStatusSummaryView {
    return summary;
  }

  @Subscription(() => DeviceAuthStatusChange, {
    description: "Every change of a device's authStatus; optionally only those into the given statuses. Any role.",
    subscribe: (data) => live(data).deviceChanges((data.args as { statuses?: AuthStatus[] | null }).statuses),
  })
  deviceAuthStatusChanged(
    @Root() change: DeviceStatusChange,
    @Arg('statuses', () => [AuthenticationStatus], {
      nullable: true,
      description: 'Only changes into one of these statuses (the current one); null or empty: every change.',
    })
    _statuses: AuthStatus[] | null,
  ): DeviceStatusChange {
    return change;
  }

  @Subscription(() => ClientCertificate, {
    description: 'New pending client certificate requests, for the Manage client access view. Any role.',
    subscribe: (data) => live(data).accessRequests(),
  })
  clientAccessRequested(@Root() request: ClientCertificateView): ClientCertificateView {
    return request;
  }

  @Subscription(() => ClientAccessDecision, {
    description:
      'Approvals, rejections and revocations (supersessions included) once committed, for the Manage client access view; optionally only the given kinds. Any role.',
    subscribe: (data) => live(data).accessDecisions((data.args as { decisions?: Decision[] | null }).decisions),
  })
  clientAccessDecided(
    @Root() decision: AccessDecision,
    @Arg('decisions', () => [ClientAccessDecisionKind], {
      nullable: true,
      description: 'Only decisions of these kinds; null or empty: every decision.',
    })
    _decisions: Decision[] | null,
  ): AccessDecision & { requestId: string } {
    return { ...decision, requestId: decision.request.id };
  }
}
