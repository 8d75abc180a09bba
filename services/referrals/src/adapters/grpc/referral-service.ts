import type { Metadata } from '@grpc/grpc-js';
import { authenticate, type TokenVerifier } from '@passage/auth';
import { referrals as pb } from '@passage/contracts';
import {
  PassageError,
  bearerToken,
  bindService,
  type Logger,
  type ServiceBinding,
  type ServiceContract,
} from '@passage/platform';
import type { Command, EscalationTarget } from '../../domain/lifecycle.ts';
import type { CallerContext, ReferralUseCases } from '../../app/referral-use-cases.ts';
import { packetToWire, priorityFromWire, referralToWire, stateFromWire, transitionToWire } from './mapping.ts';

export const referralServiceName = 'passage.referrals.v1.ReferralService';
/** What the server announces when it opens, before the handlers are ready. */
export const referralContract: ServiceContract = { name: referralServiceName, definition: pb.ReferralServiceService };

export function referralService(useCases: ReferralUseCases, verifier: TokenVerifier, log: Logger): ServiceBinding {
  const context = (metadata: Metadata): CallerContext => ({
    caller: authenticate(metadata, verifier),
    token: bearerToken(metadata) ?? '',
  });
  const move = async (
    metadata: Metadata,
    request: { idempotencyKey: string; referralId: string; expectedVersion: number },
    command: Command,
    note?: string,
  ) => ({
    referral: referralToWire(
      await useCases.transition(context(metadata), {
        idempotencyKey: request.idempotencyKey,
        referralId: request.referralId,
        expectedVersion: request.expectedVersion,
        command,
        ...(note ? { note } : {}),
      }),
    ),
  });

  return bindService<pb.ReferralServiceServer>(
    referralServiceName,
    pb.ReferralServiceService,
    {
      send: async (request, { metadata }) => ({
        referral: referralToWire(
          await useCases.send(context(metadata), {
            idempotencyKey: request.idempotencyKey,
            subjectRef: request.subjectRef,
            fromAgency: request.fromAgency,
            toAgency: request.toAgency,
            priority: priorityFromWire(request.priority),
            needs: request.needs,
            language: request.language,
            interpreterNeeded: request.interpreterNeeded,
            packet: request.packet,
          }),
        ),
      }),
      acknowledge: (request, { metadata }) => move(metadata, request, { kind: 'acknowledge' }),
      accept: (request, { metadata }) => move(metadata, request, { kind: 'accept' }),
      decline: (request, { metadata }) =>
        move(
          metadata,
          request,
          { kind: 'decline', reason: request.reason, suggestedAgency: request.suggestedAgency },
          request.note,
        ),
      recordContact: (request, { metadata }) => {
        // Required rather than defaulted to "now": a retry must carry the same request.
        if (!request.at) throw PassageError.invalid([{ field: 'at', description: 'when first contact happened' }]);
        return move(metadata, request, { kind: 'record_contact', at: request.at, method: request.method });
      },
      closeReferral: (request, { metadata }) =>
        move(metadata, request, { kind: 'close', outcome: request.outcome }, request.note),
      withdraw: (request, { metadata }) => move(metadata, request, { kind: 'withdraw', reason: request.reason }),
      escalate: (request, { metadata }) =>
        move(
          metadata,
          { ...request, expectedVersion: 0 },
          { kind: 'escalate', target: request.target as EscalationTarget },
        ),
      resend: async (request, { metadata }) => ({
        referral: referralToWire(
          await useCases.resend(context(metadata), {
            idempotencyKey: request.idempotencyKey,
            referralId: request.referralId,
            toAgency: request.toAgency,
            packet: request.packet,
          }),
        ),
      }),
      get: async (request, { metadata }) => {
        const view = await useCases.get(context(metadata), request.referralId, request.purpose);
        return { referral: referralToWire(view.referral), packet: packetToWire(view.packet), note: view.note };
      },
      listInbox: async (request, { metadata }) => {
        const page = await useCases.list(authenticate(metadata, verifier), 'inbox', {
          ...request,
          states: request.states.map(stateFromWire),
        });
        return { referrals: page.referrals.map(referralToWire), nextCursor: page.nextCursor };
      },
      listOutbox: async (request, { metadata }) => {
        const page = await useCases.list(authenticate(metadata, verifier), 'outbox', {
          ...request,
          states: request.states.map(stateFromWire),
        });
        return { referrals: page.referrals.map(referralToWire), nextCursor: page.nextCursor };
      },
      timeline: async (request, { metadata }) => ({
        transitions: (await useCases.timeline(authenticate(metadata, verifier), request.referralId)).map(
          transitionToWire,
        ),
      }),
    },
    log,
  );
}
