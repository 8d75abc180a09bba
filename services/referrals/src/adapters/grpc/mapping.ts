import { referrals as pb } from '@passage/contracts';
import type { Priority, Referral, State, Transition } from '../../domain/referral.ts';
import type { PacketView } from '../../app/referral-use-cases.ts';
import type { Message } from '../../domain/messages.ts';

const stateToWire: Record<State, pb.State> = {
  sent: pb.State.STATE_SENT,
  acknowledged: pb.State.STATE_ACKNOWLEDGED,
  accepted: pb.State.STATE_ACCEPTED,
  in_contact: pb.State.STATE_IN_CONTACT,
  closed: pb.State.STATE_CLOSED,
  declined: pb.State.STATE_DECLINED,
  withdrawn: pb.State.STATE_WITHDRAWN,
};

export function stateFromWire(state: pb.State): string {
  return Object.entries(stateToWire).find(([, wire]) => wire === state)?.[0] ?? `unknown(${state})`;
}

export function priorityFromWire(priority: pb.Priority): Priority | undefined {
  if (priority === pb.Priority.PRIORITY_URGENT) return 'urgent';
  if (priority === pb.Priority.PRIORITY_STANDARD) return 'standard';
  return undefined;
}

export function referralToWire(r: Referral): pb.Referral {
  return {
    id: r.id,
    subjectRef: r.subjectRef,
    fromAgency: r.fromAgency,
    toAgency: r.toAgency,
    priority: r.priority === 'urgent' ? pb.Priority.PRIORITY_URGENT : pb.Priority.PRIORITY_STANDARD,
    state: stateToWire[r.state],
    version: r.version,
    needs: [...r.needs],
    language: r.language,
    interpreterNeeded: r.interpreterNeeded,
    doNotContact: r.doNotContact,
    categories: [...r.categories],
    previousReferralId: r.previousReferralId,
    sentAt: r.sentAt,
    acknowledgedAt: r.acknowledgedAt,
    acceptedAt: r.acceptedAt,
    contactAt: r.contactAt,
    closedAt: r.closedAt,
    declinedAt: r.declinedAt,
    withdrawnAt: r.withdrawnAt,
    acknowledgeDueAt: r.acknowledgeDueAt,
    acceptDueAt: r.acceptDueAt,
    reason: r.reason,
    suggestedAgency: r.suggestedAgency,
    contactMethod: r.contactMethod,
    escalated: r.escalated,
    takenOverBy: r.takenOverBy,
    takenOverAt: r.takenOverAt,
    // A result kept under an idempotency key before references existed has none.
    reference: r.reference ?? '',
    assignedUser: r.assignedUser ?? '',
    assignedAt: r.assignedAt,
    linkedReferralId: r.linkedReferralId ?? '',
    linkedAgency: r.linkedAgency ?? '',
    clockStartsAt: r.clockStartsAt,
  };
}

export function packetToWire(packet: readonly PacketView[]): pb.PacketSection[] {
  return packet.map((s) => ({ category: s.category, content: s.content, withheld: s.withheld }));
}

export function transitionToWire(t: Transition): pb.Transition {
  return {
    from: t.from ? stateToWire[t.from] : pb.State.STATE_UNSPECIFIED,
    to: stateToWire[t.to],
    event: t.event,
    actorAgency: t.actor.agencyId,
    actorUser: t.actor.userId,
    actorRole: t.actor.role,
    at: t.at,
    reason: t.reason,
    assignedUser: t.assignedUser ?? '',
  };
}

export function messageToWire(m: Message): pb.ReferralMessage {
  return {
    id: m.id,
    referralId: m.referralId,
    authorAgency: m.author.agencyId,
    authorUser: m.author.userId,
    authorRole: m.author.role,
    postedAt: m.postedAt,
    body: m.body ?? '',
    kind: m.kind,
    removed: m.body === undefined,
  };
}
