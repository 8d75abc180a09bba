import type { SubjectVault } from '@passage/crypto';
import type { DeliveredEvent, Topology } from '@passage/events';
import type { EntityManager } from '@passage/platform';
import type { ReferralUseCases } from '../../app/referral-use-cases.ts';
import { referralTransaction } from '../db/storage.ts';

/**
 * Reacts to consent.v1.revoked, expired and subject_erased, in the same transaction as
 * the consumer's inbox row: open referrals no longer covered are withdrawn (and announce
 * it); an erased subject's key (in the key store, committed on its own) and sealed data
 * are destroyed.
 */
export function consentChangeHandler(useCases: ReferralUseCases, vault: () => SubjectVault, topology: Topology) {
  return async (event: DeliveredEvent, em: EntityManager): Promise<void> => {
    const tx = referralTransaction(em, vault(), topology);
    const payload = event.envelope.payload;
    switch (payload?.$case) {
      case 'consentRevoked':
        await useCases.onConsentEnded(
          tx,
          event.envelope.subjectRef,
          payload.value.consentId,
          payload.value.all ? 'all' : payload.value.scopeIds,
        );
        break;
      case 'consentExpired':
        await useCases.onConsentEnded(tx, event.envelope.subjectRef, payload.value.consentId, 'all');
        break;
      case 'subjectErased':
        await useCases.onSubjectErased(tx, event.envelope.subjectRef);
        break;
      default:
        break;
    }
  };
}
