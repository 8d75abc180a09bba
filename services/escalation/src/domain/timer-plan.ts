/**
 * What a referral event means for its timers. A sent referral gets two — acknowledge by and
 * accept by, at the due times the referrals service computed from the recipient's targets
 * (urgent: wall clock; standard: opening hours and holidays, packages/sla) — and each later
 * step cancels those it makes moot.
 */
export const targets = ['acknowledge', 'accept'] as const;
export type Target = (typeof targets)[number];

export interface ReferralEventFacts {
  /** e.g. referral.v1.sent */
  readonly type: string;
  readonly referralId: string;
  readonly subjectRef: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: string;
  readonly needs: readonly string[];
  readonly acknowledgeDueAt: Date | undefined;
  readonly acceptDueAt: Date | undefined;
}

export interface NewTimer {
  readonly referralId: string;
  readonly target: Target;
  readonly dueAt: Date;
}

export type TimerPlan =
  | { readonly kind: 'schedule'; readonly timers: readonly NewTimer[] }
  | { readonly kind: 'cancel'; readonly targets: readonly Target[]; readonly reason: string }
  | { readonly kind: 'nothing' };

export class UnschedulableEvent extends Error {}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ends: Record<string, string> = {
  'referral.v1.accepted': 'accepted',
  'referral.v1.declined': 'declined',
  'referral.v1.withdrawn': 'withdrawn',
  'referral.v1.closed': 'closed',
};

export function planFor(event: ReferralEventFacts): TimerPlan {
  if (event.type === 'referral.v1.sent') {
    if (!uuid.test(event.referralId) || !uuid.test(event.subjectRef)) {
      throw new UnschedulableEvent('a sent event without a referral id or subject reference');
    }
    const { acknowledgeDueAt, acceptDueAt } = event;
    if (!acknowledgeDueAt || !acceptDueAt) throw new UnschedulableEvent('a sent event without its due times');
    if (acceptDueAt < acknowledgeDueAt) throw new UnschedulableEvent('accept-by falls before acknowledge-by');
    return {
      kind: 'schedule',
      timers: [
        { referralId: event.referralId, target: 'acknowledge', dueAt: acknowledgeDueAt },
        { referralId: event.referralId, target: 'accept', dueAt: acceptDueAt },
      ],
    };
  }
  if (event.type === 'referral.v1.acknowledged')
    return { kind: 'cancel', targets: ['acknowledge'], reason: 'acknowledged' };
  const end = ends[event.type];
  if (end) return { kind: 'cancel', targets: [...targets], reason: end };
  return { kind: 'nothing' };
}

export type Audience = 'crisis_line' | 'sender' | 'supervisors';

export interface ItemPlan {
  readonly audience: Audience;
  readonly forAgency: string;
}

/**
 * Who is told when a target passes. The first: the 24/7 crisis line, to take the person up,
 * and the sending agency. The second for the same referral: the receiving agency's
 * supervisors too.
 */
export function itemsFor(
  referral: { readonly fromAgency: string; readonly toAgency: string },
  escalationsBefore: number,
  crisisLine: string,
): ItemPlan[] {
  if (escalationsBefore === 0) {
    const items: ItemPlan[] = [{ audience: 'sender', forAgency: referral.fromAgency }];
    // A referral the crisis line itself received is not handed back to it.
    if (referral.toAgency !== crisisLine) items.unshift({ audience: 'crisis_line', forAgency: crisisLine });
    return items;
  }
  return [{ audience: 'supervisors', forAgency: referral.toAgency }];
}
