import { authenticate, type TokenVerifier } from '@passage/auth';
import { consent as pb } from '@passage/contracts';
import { bindService, type Logger, type ServiceBinding, type ServiceContract } from '@passage/platform';
import type { ConsentUseCases } from '../../app/consent-use-cases.ts';
import { changeToWire, consentToWire, evaluationToWire, grantFromWire, receiptToWire } from './mapping.ts';

export const consentServiceName = 'passage.consent.v1.ConsentService';
/** What the server announces when it opens, before the handlers are ready. */
export const consentContract: ServiceContract = { name: consentServiceName, definition: pb.ConsentServiceService };

export function consentService(useCases: ConsentUseCases, verifier: TokenVerifier, log: Logger): ServiceBinding {
  return bindService<pb.ConsentServiceServer>(
    consentServiceName,
    pb.ConsentServiceService,
    {
      grant: async (request, { metadata }) => {
        const { consent, receipt } = await useCases.grant(
          authenticate(metadata, verifier),
          grantFromWire(request),
          request.idempotencyKey,
        );
        return {
          consentId: consent.id,
          subjectRef: consent.subjectRef,
          consent: consentToWire(consent),
          receipt: receiptToWire(receipt),
        };
      },
      revoke: async (request, { metadata }) => {
        const result = await useCases.revoke(authenticate(metadata, verifier), {
          idempotencyKey: request.idempotencyKey,
          consentId: request.consentId,
          scopeIds: request.scopeIds,
          all: request.all,
          reason: request.reason,
        });
        return {
          consent: consentToWire(result.consent),
          revokedScopeIds: [...result.revokedScopeIds],
          alreadyRevoked: result.alreadyRevoked,
        };
      },
      evaluate: async (request, { metadata }) =>
        evaluationToWire(
          await useCases.evaluate(authenticate(metadata, verifier), {
            subjectRef: request.subjectRef,
            agencyId: request.recipientAgencyId,
            kind: request.recipientKind,
            purpose: request.purpose,
          }),
        ),
      history: async (request, { metadata }) => {
        const history = await useCases.history(authenticate(metadata, verifier), request.subjectRef);
        return {
          consents: history.consents.map((c) => consentToWire(c, history.notes.get(c.id))),
          changes: history.changes.map(changeToWire),
          erased: history.erased,
        };
      },
      receipt: async (request, { metadata }) =>
        receiptToWire(await useCases.receipt(authenticate(metadata, verifier), request.consentId, request.language)),
      confirmScope: async (request, { metadata }) => {
        const { consent, alreadyConfirmed } = await useCases.confirmScope(authenticate(metadata, verifier), {
          idempotencyKey: request.idempotencyKey,
          consentId: request.consentId,
          scopeId: request.scopeId,
        });
        return { consent: consentToWire(consent), alreadyConfirmed };
      },
      eraseSubject: async (request, { metadata }) => {
        const { alreadyErased } = await useCases.eraseSubject(
          authenticate(metadata, verifier),
          request.subjectRef,
          request.reason,
          request.idempotencyKey,
        );
        return { erased: true, alreadyErased };
      },
    },
    log,
  );
}
