import { authenticate, type Caller, type TokenVerifier } from '@passage/auth';
import { escalation as pb } from '@passage/contracts';
import { bindService, type Logger, type ServiceBinding, type ServiceContract } from '@passage/platform';
import type { EscalationQueries } from '../../app/escalation-queries.ts';

export const escalationServiceName = 'passage.escalation.v1.EscalationService';
/** What the server announces when it opens, before the handlers are ready. */
export const escalationContract: ServiceContract = {
  name: escalationServiceName,
  definition: pb.EscalationServiceService,
};

export function escalationService(queries: EscalationQueries, verifier: TokenVerifier, log: Logger): ServiceBinding {
  return bindService<pb.EscalationServiceServer, Caller>(
    escalationServiceName,
    pb.EscalationServiceService,
    {
      listEscalations: async (request, { caller }) => ({
        items: (await queries.escalations(caller, request.limit)).map((item) => ({
          ...item,
          candidates: item.candidates.map((c) => ({ ...c, reasons: [...c.reasons] })),
        })),
      }),
      listTimers: async (request, { caller }) => ({
        timers: (await queries.timers(caller, request.state, request.limit)).map((t) => ({
          id: t.id,
          referralId: t.referralId,
          target: t.target,
          dueAt: t.dueAt,
          state: t.state,
          firedAt: t.firedAt,
          attempts: t.attempts,
          lastError: t.lastError,
          toAgency: t.toAgency,
          priority: t.priority,
        })),
      }),
    },
    log,
    { authenticate: (metadata) => authenticate(metadata, verifier) },
  );
}
