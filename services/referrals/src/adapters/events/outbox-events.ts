import { createEnvelope, enqueueEvents, type Envelope, type Topology } from '@passage/events';
import type { EntityManager } from '@passage/platform';
import { actingRecipient, type Referral, type Transition } from '../../domain/referral.ts';
import type { Message } from '../../domain/messages.ts';
import type { AccessRecord, ReferralEvents } from '../../app/ports.ts';
import { referralSchema } from '../db/referral-repository.ts';

/**
 * referral.v1.<from>.<to>.<event> and audit.v1.access, through the outbox. Thin: ids,
 * agencies, states, codes and the hand-off times; never the packet, a note or a message's words.
 */
export class OutboxReferralEvents implements ReferralEvents {
  readonly #em: EntityManager;
  readonly #topology: Topology;

  constructor(em: EntityManager, topology: Topology) {
    this.#em = em;
    this.#topology = topology;
  }

  async changed(referral: Referral, transition: Transition): Promise<void> {
    await enqueueEvents(this.#em, referralSchema, [referralChangedEvent(referral, transition, this.#topology)]);
  }

  async access(record: AccessRecord): Promise<void> {
    const envelope = createEnvelope({
      type: 'audit.v1.access',
      actor: { agency: record.actor.agencyId, user: record.actor.userId, role: record.actor.role },
      referralId: record.referral.id,
      subjectRef: record.referral.subjectRef,
      fromAgency: record.referral.fromAgency,
      toAgency: record.referral.toAgency,
      consentId: record.consentIds[0] ?? '',
      allowedCategories: record.categories,
      payload: {
        $case: 'accessRecorded',
        value: {
          referralId: record.referral.id,
          outcome: record.outcome,
          categories: [...record.categories],
          consentIds: [...record.consentIds],
          purpose: record.purpose,
          reason: record.reason,
          record: record.record ?? '',
        },
      },
    });
    await enqueueEvents(this.#em, referralSchema, [{ subject: this.#topology.audit('access'), envelope }]);
  }

  async messagePosted(referral: Referral, message: Omit<Message, 'body'>): Promise<void> {
    const envelope = createEnvelope({
      type: 'referral.v1.message_posted',
      occurredAt: message.postedAt,
      actor: { agency: message.author.agencyId, user: message.author.userId, role: message.author.role },
      referralId: referral.id,
      subjectRef: referral.subjectRef,
      fromAgency: referral.fromAgency,
      toAgency: referral.toAgency,
      priority: referral.priority,
      payload: {
        $case: 'messagePosted',
        value: {
          referralId: referral.id,
          messageId: message.id,
          authorAgency: message.author.agencyId,
          postedAt: message.postedAt,
        },
      },
    });
    await enqueueEvents(this.#em, referralSchema, [
      { subject: this.#topology.referral(referral.fromAgency, referral.toAgency, 'message_posted'), envelope },
    ]);
  }
}

/** The thin event of a referral's transition, and the subject it goes out on. */
export function referralChangedEvent(
  referral: Referral,
  transition: Transition,
  topology: Topology,
): { subject: string; envelope: Envelope } {
  const envelope = createEnvelope({
    type: `referral.v1.${transition.event}`,
    occurredAt: transition.at,
    actor: { agency: transition.actor.agencyId, user: transition.actor.userId, role: transition.actor.role },
    referralId: referral.id,
    subjectRef: referral.subjectRef,
    fromAgency: referral.fromAgency,
    toAgency: referral.toAgency,
    priority: referral.priority,
    consentId: referral.grants[0]?.consentId ?? '',
    allowedCategories: referral.categories,
    payload: {
      $case: 'referralChanged',
      value: {
        referralId: referral.id,
        state: referral.state,
        version: referral.version,
        sentAt: referral.sentAt,
        acknowledgedAt: referral.acknowledgedAt,
        acceptedAt: referral.acceptedAt,
        contactAt: referral.contactAt,
        closedAt: referral.closedAt,
        declinedAt: referral.declinedAt,
        withdrawnAt: referral.withdrawnAt,
        acknowledgeDueAt: referral.acknowledgeDueAt,
        acceptDueAt: referral.acceptDueAt,
        // On an escalation: which target passed (acknowledge_overdue, accept_overdue).
        reason: transition.event === 'escalated' ? transition.reason : referral.reason,
        suggestedAgency: referral.suggestedAgency,
        previousReferralId: referral.previousReferralId,
        needs: [...referral.needs],
        takenOverBy: referral.takenOverBy,
        takenOverAt: referral.takenOverAt,
        assignedUser: referral.assignedUser ?? '',
        reference: referral.reference ?? '',
        linkedReferralId: referral.linkedReferralId,
        clockStartsAt: referral.clockStartsAt,
      },
    },
  });
  // After a take-over the crisis line acts as the recipient, and its feed (referral.v1.*.<agency>.>)
  // hears what follows; the take-over itself goes to the original recipient, which hears that it
  // happened. The envelope keeps the original to_agency; ReferralChanged names the crisis line.
  const to = transition.event === 'taken_over' ? referral.toAgency : actingRecipient(referral);
  return { subject: topology.referral(referral.fromAgency, to, transition.event), envelope };
}
