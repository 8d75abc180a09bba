import { outboxNotify, outboxRows, type Topology } from '@passage/events';
import type { EntityManager } from '@passage/platform';
import type { Transition } from '../../domain/referral.ts';
import type { SendRecord, SendRecorder, SendOutcome } from '../../app/ports.ts';
import { referralChangedEvent } from '../events/outbox-events.ts';
import {
  receiptRefsOf,
  referralColumns,
  referralSchema,
  referralValues,
  refuseSecondResend,
} from './referral-repository.ts';

/** Placeholders with the casts INSERT … SELECT needs, column by column (see referralColumns). */
const referralPlaceholders = [
  '?::uuid', // id
  '?::uuid', // subject_ref
  '?', // from_agency
  '?', // to_agency
  '?', // priority
  '?', // state
  '?::integer', // version
  '?::jsonb', // needs
  '?', // language
  '?::boolean', // interpreter_needed
  '?::boolean', // do_not_contact
  '?::jsonb', // categories
  '?::jsonb', // grants
  '?::uuid', // previous_referral_id
  '?::jsonb', // sent_by
  ...Array.from({ length: 9 }, () => '?::timestamptz'), // sent_at … accept_due_at
  '?', // reason
  '?', // suggested_agency
  '?', // contact_method
  '?::boolean', // escalated
  '?', // taken_over_by
  '?::timestamptz', // taken_over_at
  '?::bigint', // reference_no
  '?', // assigned_user
  '?::timestamptz', // assigned_at
  '?::uuid', // linked_referral_id
  '?', // linked_agency
  '?::timestamptz', // clock_starts_at
  'array(select jsonb_array_elements_text(?::jsonb))', // receipt_refs (not one of referralColumns)
].join(', ');

/**
 * A Send is the hot path of the network, and on two shared cores every round trip costs
 * milliseconds. So the checks and writes of a Send are one statement: consent scopes
 * ended meanwhile (none may be), the idempotency key, the referral, its sealed packet,
 * its first transition and its outbox row with the relay's wake-up. Data-modifying CTEs
 * run to completion together, each write conditional on the one before it.
 */
export class SqlSendRecorder implements SendRecorder {
  readonly #em: EntityManager;
  readonly #topology: Topology;

  constructor(em: EntityManager, topology: Topology) {
    this.#em = em;
    this.#topology = topology;
  }

  async record(send: SendRecord): Promise<SendOutcome> {
    const { referral, packet, transition, idempotency } = send;
    if (referral.grants.length === 0 || packet.length === 0) return 'grants_ended';
    const event = outboxRows([referralChangedEvent(referral, transition, this.#topology)]);
    const [row] = await this.#em
      .execute<{ ended: boolean; inserted: boolean }[]>(
        `with ended as (
         select 1 from referrals.ended_grants e
         where (e.consent_id, e.scope_id) in (${referral.grants.map(() => '(?::uuid, ?)').join(', ')})
            or (e.scope_id = '*' and e.consent_id in (${referral.grants.map(() => '?::uuid').join(', ')}))
       ), idempotency as (
         insert into referrals.idempotency_keys (agency_id, key, command, request_hash, result)
         select ?, ?, ?, ?, ?::jsonb where not exists (select 1 from ended)
         on conflict do nothing returning key
       ), referral as (
         insert into referrals.referrals (${referralColumns}, receipt_refs)
         select ${referralPlaceholders} where exists (select 1 from idempotency)
         returning id
       ), packet as (
         insert into referrals.packets (referral_id, category, sealed)
         select referral.id, section.category, section.sealed
         from referral, (values ${packet.map(() => '(?, ?::bytea)').join(', ')}) as section (category, sealed)
         returning 1
       ), transition as (
         insert into referrals.transitions (referral_id, from_state, to_state, event, actor, at, reason)
         select referral.id, ?, ?, ?, ?::jsonb, ?::timestamptz, ? from referral
         returning 1
       ), event as (
         insert into referrals.outbox (id, subject, payload, trace_context)
         select row.* from referral, (values ${event.sql}) as row (id, subject, payload, trace_context)
         returning 1
       )
       select exists (select 1 from ended) as ended, exists (select 1 from idempotency) as inserted,
              (select ${outboxNotify(referralSchema)} from event limit 1) as notified`,
        [
          ...referral.grants.flatMap((g) => [g.consentId, g.scopeId]),
          ...referral.grants.map((g) => g.consentId),
          idempotency.agencyId,
          idempotency.key,
          idempotency.command,
          idempotency.requestHash,
          JSON.stringify(referral),
          ...referralValues(referral),
          JSON.stringify(receiptRefsOf(referral)),
          ...packet.flatMap((section) => [section.category, section.sealed]),
          ...transitionValues(transition),
          ...event.params,
        ],
      )
      .catch(refuseSecondResend);
    if (row?.ended) return 'grants_ended';
    return row?.inserted ? 'sent' : 'key_taken';
  }
}

function transitionValues(t: Transition): unknown[] {
  return [t.from, t.to, t.event, JSON.stringify(t.actor), t.at, t.reason];
}
