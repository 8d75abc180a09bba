import { authenticate, type Caller, type TokenVerifier } from '@passage/auth';
import { referrals as pb } from '@passage/contracts';
import {
  PassageError,
  bearerToken,
  bindService,
  type CallContext,
  type Logger,
  type ServiceBinding,
  type ServiceContract,
} from '@passage/platform';
import type { Command, EscalationTarget } from '../../domain/lifecycle.ts';
import type { CallerContext, EscalationOutcome, ReferralUseCases } from '../../app/referral-use-cases.ts';
import {
  messageToWire,
  packetToWire,
  priorityFromWire,
  referralToWire,
  stateFromWire,
  transitionToWire,
} from './mapping.ts';

const escalationOutcomeToWire: Record<EscalationOutcome, pb.EscalationOutcome> = {
  escalated: pb.EscalationOutcome.ESCALATION_OUTCOME_ESCALATED,
  target_met: pb.EscalationOutcome.ESCALATION_OUTCOME_TARGET_MET,
  unknown_referral: pb.EscalationOutcome.ESCALATION_OUTCOME_UNKNOWN_REFERRAL,
  refused: pb.EscalationOutcome.ESCALATION_OUTCOME_REFUSED,
  busy: pb.EscalationOutcome.ESCALATION_OUTCOME_BUSY,
};

export const referralServiceName = 'passage.referrals.v1.ReferralService';
/** What the server announces when it opens, before the handlers are ready. */
export const referralContract: ServiceContract = { name: referralServiceName, definition: pb.ReferralServiceService };

export function referralService(useCases: ReferralUseCases, verifier: TokenVerifier, log: Logger): ServiceBinding {
  const context = ({ caller, metadata }: CallContext<Caller>): CallerContext => ({
    caller,
    token: bearerToken(metadata) ?? '',
  });
  const move = async (
    call: CallContext<Caller>,
    request: { idempotencyKey: string; referralId: string; expectedVersion: number },
    command: Command,
    note?: string,
    noteForSender?: string,
  ) => ({
    referral: referralToWire(
      await useCases.transition(context(call), {
        idempotencyKey: request.idempotencyKey,
        referralId: request.referralId,
        expectedVersion: request.expectedVersion,
        command,
        ...(note ? { note } : {}),
        ...(noteForSender ? { noteForSender } : {}),
      }),
    ),
  });

  return bindService<pb.ReferralServiceServer, Caller>(
    referralServiceName,
    pb.ReferralServiceService,
    {
      send: async (request, call) => ({
        referral: referralToWire(
          await useCases.send(context(call), {
            idempotencyKey: request.idempotencyKey,
            subjectRef: request.subjectRef,
            fromAgency: request.fromAgency,
            toAgency: request.toAgency,
            priority: priorityFromWire(request.priority),
            needs: request.needs,
            language: request.language,
            interpreterNeeded: request.interpreterNeeded,
            packet: request.packet,
            clockStartsAtOpening: request.clockStartsAtOpening,
            linkedReferralId: request.linkedReferralId,
          }),
        ),
      }),
      acknowledge: (request, call) => move(call, request, { kind: 'acknowledge' }),
      accept: (request, call) => move(call, request, { kind: 'accept' }),
      decline: (request, call) =>
        move(
          call,
          request,
          { kind: 'decline', reason: request.reason, suggestedAgency: request.suggestedAgency },
          request.note,
          request.noteForSender,
        ),
      recordContact: (request, call) => {
        // Required rather than defaulted to "now": a retry must carry the same request.
        if (!request.at) throw PassageError.invalid([{ field: 'at', description: 'when first contact happened' }]);
        return move(call, request, { kind: 'record_contact', at: request.at, method: request.method });
      },
      closeReferral: (request, call) => move(call, request, { kind: 'close', outcome: request.outcome }, request.note),
      withdraw: (request, call) => move(call, request, { kind: 'withdraw', reason: request.reason }),
      escalate: (request, call) =>
        move(
          call,
          { ...request, expectedVersion: 0 },
          { kind: 'escalate', target: request.target as EscalationTarget },
        ),
      escalateMany: async (request, call) => {
        const results = await useCases.escalateMany(context(call), request.escalations);
        return {
          outcomes: results.map((result) => escalationOutcomeToWire[result.outcome]),
          details: results.map((result) => result.detail),
        };
      },
      takeOver: (request, call) => move(call, request, { kind: 'take_over' }),
      resend: async (request, call) => ({
        referral: referralToWire(
          await useCases.resend(context(call), {
            idempotencyKey: request.idempotencyKey,
            referralId: request.referralId,
            toAgency: request.toAgency,
            packet: request.packet,
          }),
        ),
      }),
      get: async (request, call) => {
        const view = await useCases.get(context(call), request.referralId, request.purpose);
        return {
          referral: referralToWire(view.referral),
          packet: packetToWire(view.packet),
          note: view.note,
          // Ids only: where a covered agency records the person's withdrawal (ADR 36).
          consentIds: [...new Set(view.referral.grants.map((g) => g.consentId))],
        };
      },
      listInbox: async (request, call) => {
        const page = await useCases.list(call.caller, 'inbox', {
          ...request,
          states: request.states.map(stateFromWire),
          assignedTo: request.assignedTo,
        });
        return { referrals: page.referrals.map(referralToWire), nextCursor: page.nextCursor };
      },
      listOutbox: async (request, call) => {
        const page = await useCases.list(call.caller, 'outbox', {
          ...request,
          states: request.states.map(stateFromWire),
        });
        return { referrals: page.referrals.map(referralToWire), nextCursor: page.nextCursor };
      },
      postMessage: async (request, call) => ({
        message: messageToWire(
          await useCases.postMessage(context(call), {
            idempotencyKey: request.idempotencyKey,
            referralId: request.referralId,
            body: request.body,
          }),
        ),
      }),
      listMessages: async (request, call) => ({
        messages: (await useCases.listMessages(context(call), request.referralId)).map(messageToWire),
      }),
      search: async (request, call) => {
        const page = await useCases.search(call.caller, {
          ...request,
          states: request.states.map(stateFromWire),
        });
        return { referrals: page.referrals.map(referralToWire), nextCursor: page.nextCursor };
      },
      assign: async (request, call) => ({
        referral: referralToWire(await useCases.assign(call.caller, request)),
      }),
      caseload: async (request, call) => {
        const load = await useCases.caseload(call.caller, request.agency);
        return { workloads: load.workloads.map((w) => ({ ...w })), unassigned: load.unassigned };
      },
      timeline: async (request, call) => ({
        transitions: (await useCases.timeline(call.caller, request.referralId)).map(transitionToWire),
      }),
    },
    log,
    { authenticate: (metadata) => authenticate(metadata, verifier) },
  );
}
