/**
 * What a referral event means for its timers. A sent referral gets two — acknowledge by and
 * accept by, at the due times the referrals service computed from the recipient's targets
 * (urgent: wall clock; standard: opening hours and holidays, packages/sla) — and each later
 * step settles those it makes moot.
 *
 * Events can arrive out of order (a delivery redelivered after a crash or a retry comes after
 * the events published behind it), so the timers are not driven by the event's type but by the
 * referral as the event describes it: every referral event carries the referral's version and
 * state after the step, its due times and its hand-off times. Escalation keeps, per referral,
 * the version it has applied; an event at or below it is stale and changes nothing, so a late
 * `sent` cannot bring back timers that a later step settled. Whatever the order, the timers end
 * as they would have in order.
 */
export const targets = ['acknowledge', 'accept'] as const;
export type Target = (typeof targets)[number];

/** The referral states of the lifecycle (services/referrals). */
export const referralStates = [
  'sent',
  'acknowledged',
  'accepted',
  'in_contact',
  'closed',
  'declined',
  'withdrawn',
] as const;

/** The states in which each target is still unmet. */
const openIn: Record<Target, readonly string[]> = {
  acknowledge: ['sent'],
  accept: ['sent', 'acknowledged'],
};

export interface ReferralEventFacts {
  /** e.g. referral.v1.sent */
  readonly type: string;
  readonly referralId: string;
  readonly subjectRef: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: string;
  readonly needs: readonly string[];
  /** The referral's version after the step: 1 when sent, one more for each later step. */
  readonly version: number;
  /** The referral's state after the step. */
  readonly state: string;
  readonly acknowledgeDueAt: Date | undefined;
  readonly acceptDueAt: Date | undefined;
  readonly acknowledgedAt: Date | undefined;
  readonly acceptedAt: Date | undefined;
  readonly declinedAt: Date | undefined;
  readonly withdrawnAt: Date | undefined;
  /** When the crisis line took the referral over: the original recipient's targets are moot since. */
  readonly takenOverAt?: Date | undefined;
}

/** What escalation has applied of one referral. */
export interface AppliedReferral {
  /** The version of the last event applied; 0 before the first. */
  readonly version: number;
  /** The referral's state at that version; '' before the first. */
  readonly state: string;
}

export const nothingApplied: AppliedReferral = { version: 0, state: '' };

/**
 * What one target's timer should be after an event.
 * - keep: a pending timer due at `dueAt`; created if there is none. A timer already fired or
 *   cancelled stays as it is: nothing makes a settled timer pending again.
 * - settle: no pending timer. A pending one is cancelled with `reason`; when there is none the
 *   timer is recorded as cancelled, so the referral's timers are the same whichever of its
 *   events came first; a fired one stays fired.
 */
export type TimerStep =
  | { readonly kind: 'keep'; readonly target: Target; readonly dueAt: Date }
  | { readonly kind: 'settle'; readonly target: Target; readonly dueAt: Date; readonly reason: string };

export type Decision =
  /** The event is at or below the version applied: nothing changes. */
  | { readonly kind: 'stale'; readonly applied: AppliedReferral }
  /** The event is newer: record `applied`, then take each step. */
  | { readonly kind: 'apply'; readonly applied: AppliedReferral; readonly steps: readonly TimerStep[] };

export class UnschedulableEvent extends Error {}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Throws UnschedulableEvent for an event escalation cannot place in the referral's history. */
export function checkEvent(event: ReferralEventFacts): void {
  if (!uuid.test(event.referralId) || !uuid.test(event.subjectRef)) {
    throw new UnschedulableEvent(`a ${event.type} event without a referral id or subject reference`);
  }
  if (!Number.isSafeInteger(event.version) || event.version < 1) {
    throw new UnschedulableEvent(`a ${event.type} event without the referral's version`);
  }
  if (!(referralStates as readonly string[]).includes(event.state)) {
    throw new UnschedulableEvent(`a ${event.type} event with an unknown referral state "${event.state}"`);
  }
  const { acknowledgeDueAt, acceptDueAt } = event;
  if (!acknowledgeDueAt || !acceptDueAt) throw new UnschedulableEvent(`a ${event.type} event without its due times`);
  if (acceptDueAt < acknowledgeDueAt) throw new UnschedulableEvent('accept-by falls before acknowledge-by');
}

/**
 * What to do with a referral event, given what has been applied of its referral. Pure: the
 * caller reads `applied` and writes the outcome in one transaction, one event of a referral at
 * a time.
 */
export function decide(applied: AppliedReferral, event: ReferralEventFacts): Decision {
  checkEvent(event);
  if (event.version <= applied.version) return { kind: 'stale', applied };
  const steps = targets.map((target): TimerStep => {
    const dueAt = target === 'acknowledge' ? event.acknowledgeDueAt! : event.acceptDueAt!;
    // A referral the crisis line took over no longer waits on its original recipient's targets.
    return openIn[target].includes(event.state) && !event.takenOverAt
      ? { kind: 'keep', target, dueAt }
      : { kind: 'settle', target, dueAt, reason: metBy(target, event) };
  });
  return { kind: 'apply', applied: { version: event.version, state: event.state }, steps };
}

/**
 * The step that met (or mooted) a target, read from the referral's own hand-off times so that
 * it is the same whichever event says it: acknowledged, accepted (an accept straight from
 * sent acknowledges at the same instant), declined, withdrawn, or taken over by the crisis line.
 */
function metBy(target: Target, event: ReferralEventFacts): string {
  const { acknowledgedAt, acceptedAt, declinedAt, withdrawnAt, takenOverAt } = event;
  // Taken over while the target was unmet (a take-over comes before any accept, and may come
  // before the crisis line's own acknowledgement): the take-over settled it.
  if (takenOverAt && (target === 'accept' || !acknowledgedAt || acknowledgedAt > takenOverAt)) return 'taken_over';
  if (target === 'acknowledge' && acknowledgedAt && acknowledgedAt.getTime() !== acceptedAt?.getTime()) {
    return 'acknowledged';
  }
  if (acceptedAt) return 'accepted';
  if (declinedAt) return 'declined';
  if (withdrawnAt) return 'withdrawn';
  return event.state;
}

export type TimerState = 'pending' | 'fired' | 'cancelled';

export interface TimerStatus {
  readonly state: TimerState;
  readonly dueAt: Date;
  /** Why it was cancelled; '' otherwise. */
  readonly reason: string;
}

/**
 * A target's timer after a step (TimerStep): what the timer store does, as a function, so
 * that the order-independence of the whole can be checked without a database.
 */
export function timerAfter(existing: TimerStatus | undefined, step: TimerStep): TimerStatus {
  if (step.kind === 'keep') return existing ?? { state: 'pending', dueAt: step.dueAt, reason: '' };
  if (!existing) return { state: 'cancelled', dueAt: step.dueAt, reason: step.reason };
  if (existing.state === 'pending') return { ...existing, state: 'cancelled', reason: step.reason };
  return existing;
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
