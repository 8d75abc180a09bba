import type { EventHandler, Envelope } from '@passage/events';
import { applyReferralEvent } from '../../app/notifications.ts';
import type { ReferralEventFacts } from '../../domain/notifications.ts';
import { PgNotifyTransaction } from './store.ts';

/**
 * The gateway-notifications consumer's handler (ADR 40): every referral event, in the
 * consumer's transaction, so a notice and its e-mails are made once, across restarts and
 * redeliveries (ADR 5).
 */
export const notificationHandler: EventHandler = async ({ envelope, subject }, em) => {
  const tx = new PgNotifyTransaction(em);
  await applyReferralEvent(tx, factsOf(envelope, subject), envelope.id);
  if (envelope.payload?.$case === 'referralChanged') {
    await tx.rememberReference(envelope.payload.value.referralId, envelope.payload.value.reference);
  }
};

export function factsOf(envelope: Envelope, subject: string): ReferralEventFacts {
  const changed = envelope.payload?.$case === 'referralChanged' ? envelope.payload.value : undefined;
  const posted = envelope.payload?.$case === 'messagePosted' ? envelope.payload.value : undefined;
  return {
    referralId: envelope.referralId || posted?.referralId || changed?.referralId || '',
    // The subject's last token names the event (referral.v1.<from>.<to>.<event>).
    event: subject.split('.').at(-1) ?? '',
    fromAgency: envelope.fromAgency,
    toAgency: envelope.toAgency,
    priority: envelope.priority,
    actorUser: envelope.actor?.user ?? '',
    actorAgency: envelope.actor?.agency ?? '',
    version: changed ? changed.version : 0,
    assignedUser: changed ? changed.assignedUser : undefined,
    authorAgency: posted?.authorAgency ?? envelope.actor?.agency ?? '',
  };
}
