import { authenticate, type Caller, type TokenVerifier } from '@passage/auth';
import { consent as pb } from '@passage/contracts';
import { bindService, type Logger, type ServiceBinding, type ServiceContract } from '@passage/platform';
import type { ConsentUseCases } from '../../app/consent-use-cases.ts';
import {
  changeToWire,
  consentToWire,
  evaluationToWire,
  grantFromWire,
  methodFromWire,
  receiptToWire,
} from './mapping.ts';

export const consentServiceName = 'passage.consent.v1.ConsentService';
/** What the server announces when it opens, before the handlers are ready. */
export const consentContract: ServiceContract = { name: consentServiceName, definition: pb.ConsentServiceService };

export function consentService(useCases: ConsentUseCases, verifier: TokenVerifier, log: Logger): ServiceBinding {
  return bindService<pb.ConsentServiceServer, Caller>(
    consentServiceName,
    pb.ConsentServiceService,
    {
      grant: async (request, { caller }) => {
        const { consent, receipt } = await useCases.grant(caller, grantFromWire(request), request.idempotencyKey);
        return {
          consentId: consent.id,
          subjectRef: consent.subjectRef,
          consent: consentToWire(consent),
          receipt: receiptToWire(receipt),
        };
      },
      revoke: async (request, { caller }) => {
        const result = await useCases.revoke(caller, {
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
      evaluate: async (request, { caller }) =>
        evaluationToWire(
          await useCases.evaluate(caller, {
            subjectRef: request.subjectRef,
            agencyId: request.recipientAgencyId,
            kind: request.recipientKind,
            purpose: request.purpose,
          }),
        ),
      history: async (request, { caller }) => {
        const history = await useCases.history(caller, request.subjectRef);
        return {
          consents: history.consents.map((c) => consentToWire(c, history.notes.get(c.id))),
          changes: history.changes.map(changeToWire),
          erased: history.erased,
        };
      },
      receipt: async (request, { caller }) =>
        receiptToWire(
          await useCases.receipt(caller, request.consentId, request.language, request.discreet, request.version ?? 0),
        ),
      getConsent: async (request, { caller }) => ({
        consent: consentToWire(await useCases.get(caller, request.consentId)),
      }),
      amend: async (request, { caller }) => {
        const result = await useCases.amend(caller, {
          idempotencyKey: request.idempotencyKey,
          consentId: request.consentId,
          language: request.language,
          method: methodFromWire(request.method),
          interpreterLanguage: request.interpreterLanguage,
          scopes: request.scopes,
        });
        return {
          consent: consentToWire(result.consent),
          addedScopeIds: [...result.addedScopeIds],
          receipt: receiptToWire(result.receipt),
        };
      },
      confirmScope: async (request, { caller }) => {
        const { consent, alreadyConfirmed } = await useCases.confirmScope(caller, {
          idempotencyKey: request.idempotencyKey,
          consentId: request.consentId,
          scopeId: request.scopeId,
        });
        return { consent: consentToWire(consent), alreadyConfirmed };
      },
      eraseSubject: async (request, { caller }) => {
        const { alreadyErased } = await useCases.eraseSubject(
          caller,
          request.subjectRef,
          request.reason,
          request.idempotencyKey,
        );
        return { erased: true, alreadyErased };
      },
    },
    log,
    { authenticate: (metadata) => authenticate(metadata, verifier) },
  );
}
