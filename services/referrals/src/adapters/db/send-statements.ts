import { outboxNotify, outboxRows, type Topology } from '@passage/events';
import type { Transition } from '../../domain/referral.ts';
import type { SendRecord } from '../../app/ports.ts';
import { referralChangedEvent } from '../events/outbox-events.ts';
import { receiptRefsOf, referralColumns, referralSchema, referralValues } from './referral-repository.ts';

/**
 * A Send's statements (docs/adr/0049-send-on-prepared-statements.md), as named prepared
 * statements: each text is fixed (lists travel as arrays), so a connection parses and plans
 * it once and then only binds values. The send benchmark runs these same statements straight
 * through `pg` as its ceiling.
 */

/** The caller's earlier command under its idempotency key, if any. */
export const findIdempotencyKey = {
  name: 'referrals-find-idempotency-key',
  text: 'select command, request_hash, result from referrals.idempotency_keys where agency_id = $1 and key = $2',
} as const;

/**
 * The person's lock, held to commit (a consent change handled meanwhile waits, and one
 * handled before is seen below), and the next reference number: one round trip.
 */
export const lockAndNumber = {
  name: 'referrals-send-lock',
  text: `select pg_advisory_xact_lock(hashtext('referrals:' || $1::text)) as locked,
                nextval('referrals.reference_numbers')::text as n`,
} as const;

/** Casts of the referral's columns in order (see referralColumns), then receipt_refs. */
const referralCasts = [
  'uuid', // id
  'uuid', // subject_ref
  'text', // from_agency
  'text', // to_agency
  'text', // priority
  'text', // state
  'integer', // version
  'jsonb', // needs
  'text', // language
  'boolean', // interpreter_needed
  'boolean', // do_not_contact
  'jsonb', // categories
  'jsonb', // grants
  'uuid', // previous_referral_id
  'jsonb', // sent_by
  ...Array.from({ length: 9 }, () => 'timestamptz'), // sent_at … accept_due_at
  'text', // reason
  'text', // suggested_agency
  'text', // contact_method
  'boolean', // escalated
  'text', // taken_over_by
  'timestamptz', // taken_over_at
  'bigint', // reference_no
  'text', // assigned_user
  'timestamptz', // assigned_at
  'uuid', // linked_referral_id
  'text', // linked_agency
  'timestamptz', // clock_starts_at
];
// $1–$2 grants, $3–$7 idempotency, then the referral, receipt_refs, packet, transition, event.
const referralAt = 8;
const receiptRefsAt = referralAt + referralCasts.length;
const packetAt = receiptRefsAt + 1;
const transitionAt = packetAt + 2;
const eventAt = transitionAt + 6;
const params = (from: number, casts: readonly string[]) => casts.map((cast, i) => `$${from + i}::${cast}`).join(', ');

/**
 * The checks and writes of a Send in one statement: consent scopes ended meanwhile (none
 * may be), the idempotency key, the referral, its sealed packet, its first transition, its
 * outbox row and the relay's wake-up. Data-modifying CTEs run to completion together, each
 * write conditional on the one before it.
 */
export const recordSend = {
  name: 'referrals-send-record',
  text: `with grant_list as (
      select * from unnest($1::uuid[], $2::text[]) as g (consent_id, scope_id)
    ), ended as (
      select 1 from referrals.ended_grants e join grant_list g on e.consent_id = g.consent_id
      where e.scope_id = g.scope_id or e.scope_id = '*'
    ), idempotency as (
      insert into referrals.idempotency_keys (agency_id, key, command, request_hash, result)
      select $3::text, $4::text, $5::text, $6::text, $7::jsonb where not exists (select 1 from ended)
      on conflict do nothing returning key
    ), referral as (
      insert into referrals.referrals (${referralColumns}, receipt_refs)
      select ${params(referralAt, referralCasts)}, $${receiptRefsAt}::text[] where exists (select 1 from idempotency)
      returning id
    ), packet as (
      insert into referrals.packets (referral_id, category, sealed)
      select referral.id, section.category, section.sealed
      from referral, unnest($${packetAt}::text[], $${packetAt + 1}::bytea[]) as section (category, sealed)
      returning 1
    ), transition as (
      insert into referrals.transitions (referral_id, from_state, to_state, event, actor, at, reason)
      select referral.id, ${params(transitionAt, ['text', 'text', 'text', 'jsonb', 'timestamptz', 'text'])} from referral
      returning 1
    ), event as (
      insert into referrals.outbox (id, subject, payload, trace_context)
      select ${params(eventAt, ['uuid', 'text', 'bytea', 'jsonb'])} from referral
      returning 1
    )
    select exists (select 1 from ended) as ended, exists (select 1 from idempotency) as inserted,
           (select ${outboxNotify(referralSchema)} from event limit 1) as notified`,
} as const;

/** The values of recordSend for one Send, in order. */
export function recordSendValues(send: SendRecord, topology: Topology): unknown[] {
  const { referral, packet, transition, idempotency } = send;
  const event = outboxRows([referralChangedEvent(referral, transition, topology)]);
  return [
    referral.grants.map((g) => g.consentId),
    referral.grants.map((g) => g.scopeId),
    idempotency.agencyId,
    idempotency.key,
    idempotency.command,
    idempotency.requestHash,
    JSON.stringify(referral),
    ...referralValues(referral),
    receiptRefsOf(referral),
    packet.map((section) => section.category),
    packet.map((section) => section.sealed),
    ...transitionValues(transition),
    ...event.params,
  ];
}

function transitionValues(t: Transition): unknown[] {
  return [t.from, t.to, t.event, JSON.stringify(t.actor), t.at, t.reason];
}
