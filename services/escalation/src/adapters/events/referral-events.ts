import type { Envelope, EventHandler } from '@passage/events';
import { checkEvent, decide, type ReferralEventFacts } from '../../domain/index.ts';

/**
 * Keeps the timers in step with the referral stream, in the consumer's transaction (its
 * inbox row and these changes commit together). Events may come out of order (a redelivery
 * after a crash, a retry): the referral's row in escalation.referrals holds the version
 * applied, and domain/timer-plan.ts decides what a newer event changes and that an older one
 * changes nothing. An event that cannot be placed throws: the consumer retries it, then parks
 * it with the error; the service goes on.
 */
export const referralEventHandler: EventHandler = async ({ envelope }, em) => {
  // A message posted on a referral (referral.v1.<from>.<to>.message_posted) moves no timer.
  if (envelope.payload?.$case === 'messagePosted') return;
  const facts = factsOf(envelope);
  checkEvent(facts);
  // The referral's row, locked: one event of a referral at a time, whichever instance has it.
  await em.execute(`insert into escalation.referrals (referral_id) values (?) on conflict do nothing`, [
    facts.referralId,
  ]);
  const [row] = await em.execute<{ version: string; state: string }[]>(
    `select version::text as version, state from escalation.referrals where referral_id = ? for update`,
    [facts.referralId],
  );
  const decision = decide({ version: Number(row!.version), state: row!.state }, facts);
  if (decision.kind === 'stale') return;
  await em.execute(`update escalation.referrals set version = ?, state = ?, applied_at = now() where referral_id = ?`, [
    decision.applied.version,
    decision.applied.state,
    facts.referralId,
  ]);
  const needs = facts.needs.filter((need) => /^[a-z_]+$/.test(need)).join(',');
  for (const step of decision.steps) {
    const values = [
      facts.referralId,
      step.target,
      step.dueAt.toISOString(),
      facts.subjectRef,
      facts.fromAgency,
      facts.toAgency,
      facts.priority,
      needs,
    ];
    if (step.kind === 'keep') {
      // Created if missing; a timer already fired or cancelled stays so.
      await em.execute(
        `insert into escalation.timers (referral_id, target, due_at, subject_ref, from_agency, to_agency, priority, needs)
         values (?, ?, ?, ?, ?, ?, ?, string_to_array(?, ','))
         on conflict (referral_id, target) do nothing`,
        values,
      );
    } else {
      // A pending timer is cancelled; a missing one is recorded cancelled; a fired one stays fired.
      await em.execute(
        `insert into escalation.timers
           (referral_id, target, due_at, subject_ref, from_agency, to_agency, priority, needs, state, settled_reason)
         values (?, ?, ?, ?, ?, ?, ?, string_to_array(?, ','), 'cancelled', ?)
         on conflict (referral_id, target) do update set state = 'cancelled', settled_reason = excluded.settled_reason
         where escalation.timers.state = 'pending'`,
        [...values, step.reason],
      );
    }
  }
};

function factsOf(envelope: Envelope): ReferralEventFacts {
  const changed = envelope.payload?.$case === 'referralChanged' ? envelope.payload.value : undefined;
  return {
    type: envelope.type,
    referralId: envelope.referralId,
    subjectRef: envelope.subjectRef,
    fromAgency: envelope.fromAgency,
    toAgency: envelope.toAgency,
    priority: envelope.priority,
    needs: changed?.needs ?? [],
    version: changed?.version ?? 0,
    state: changed?.state ?? '',
    acknowledgeDueAt: changed?.acknowledgeDueAt,
    acceptDueAt: changed?.acceptDueAt,
    acknowledgedAt: changed?.acknowledgedAt,
    acceptedAt: changed?.acceptedAt,
    declinedAt: changed?.declinedAt,
    withdrawnAt: changed?.withdrawnAt,
    takenOverAt: changed?.takenOverAt,
  };
}
