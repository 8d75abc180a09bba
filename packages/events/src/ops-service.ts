import { authenticate, requireRole, type Caller, type TokenVerifier } from '@passage/auth';
import { ops as pb } from '@passage/contracts';
import { bindService, type Logger, type ServiceBinding, type ServiceContract } from '@passage/platform';
import type { ParkedEvents } from './parked.ts';

export const parkedEventsServiceName = 'passage.ops.v1.ParkedEventsService';

/** What a server announces when it opens, before the handlers are ready. */
export const parkedEventsContract: ServiceContract = {
  name: parkedEventsServiceName,
  definition: pb.ParkedEventsServiceService,
};

/**
 * passage.ops.v1.ParkedEventsService over a service's parked events: administrators only
 * (a caller token with the admin role), gRPC only (no HTTP route).
 */
export function parkedEventsService(parked: ParkedEvents, verifier: TokenVerifier, log: Logger): ServiceBinding {
  return bindService<pb.ParkedEventsServiceServer, Caller>(
    parkedEventsServiceName,
    pb.ParkedEventsServiceService,
    {
      list: async (request, { caller }) => {
        requireRole(caller, ['admin'], 'listing parked events');
        const events = await parked.list(request.consumer, request.limit);
        return { events: events.map((event) => ({ ...event, service: parked.service })) };
      },
      replay: async (request, { caller }) => {
        requireRole(caller, ['admin'], 'replaying a parked event');
        const actor = { agency: caller.agencyId, user: caller.userId, role: 'admin' };
        return parked.replay(request.eventId, actor, request.consumer);
      },
    },
    log,
    { authenticate: (metadata) => authenticate(metadata, verifier) },
  );
}
