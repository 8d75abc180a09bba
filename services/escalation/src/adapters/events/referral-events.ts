import type { EventHandler } from '@passage/events';
import { planFor, type ReferralEventFacts } from '../../domain/index.ts';

/**
 * Keeps the timers in step with the referral stream, in the consumer's transaction (its
 * inbox row and these changes commit together). An event that cannot be scheduled throws:
 * the consumer retries it, then parks it with the error; the service goes on.
 */
export const referralEventHandler: EventHandler = async ({ envelope }, em) => {
  const changed = envelope.payload?.$case === 'referralChanged' ? envelope.payload.value : undefined;
  const facts: ReferralEventFacts = {
    type: envelope.type,
    referralId: envelope.referralId,
    subjectRef: envelope.subjectRef,
    fromAgency: envelope.fromAgency,
    toAgency: envelope.toAgency,
    priority: envelope.priority,
    needs: changed?.needs ?? [],
    acknowledgeDueAt: changed?.acknowledgeDueAt,
    acceptDueAt: changed?.acceptDueAt,
  };
  const plan = planFor(facts);
  if (plan.kind === 'schedule') {
    for (const timer of plan.timers) {
      await em.execute(
        `insert into escalation.timers (referral_id, target, due_at, subject_ref, from_agency, to_agency, priority, needs)
         values (?, ?, ?, ?, ?, ?, ?, string_to_array(?, ','))
         on conflict (referral_id, target) do nothing`,
        [
          timer.referralId,
          timer.target,
          timer.dueAt.toISOString(),
          facts.subjectRef,
          facts.fromAgency,
          facts.toAgency,
          facts.priority,
          facts.needs.filter((need) => /^[a-z_]+$/.test(need)).join(','),
        ],
      );
    }
  } else if (plan.kind === 'cancel') {
    for (const target of plan.targets) {
      await em.execute(
        `update escalation.timers set state = 'cancelled', settled_reason = ?
         where referral_id = ? and target = ? and state = 'pending'`,
        [plan.reason, facts.referralId, target],
      );
    }
  }
};
