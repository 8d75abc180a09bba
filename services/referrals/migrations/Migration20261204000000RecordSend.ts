import { Migration } from '@mikro-orm/migrations';

/**
 * The writes of a Send as one function (docs/adr/0049-send-on-prepared-statements.md): its
 * plan is kept by each connection, and its call and the commit travel in one round trip.
 * The text is frozen here, as every migration's is: a change to the referrals table or to
 * what a Send writes replaces the function in a new migration (send-statements.ts names it).
 *
 * Arguments, in order: the cited grants (consent ids, scope ids); the idempotency key (agency,
 * key, command, request hash, result); the referral's columns (referralColumns) and its
 * receipt references; the packet (categories, sealed sections); the first transition; the
 * outbox row, stamped with the time of this write (the commit follows in the same round
 * trip; the send benchmark times notifications from it). Returns whether a cited scope had ended (nothing written) and whether the key
 * was free (else nothing written: a concurrent retry holds it). The caller holds the
 * subject's lock, taken in an earlier statement, so this sees every ended scope recorded
 * before it.
 */
export class Migration20261204000000RecordSend extends Migration {
  override up(): void {
    this
      .addSql(`create function "referrals".record_send(uuid[], text[], text, text, text, text, jsonb, uuid, uuid, text, text, text, text, integer, jsonb, text, boolean, boolean, jsonb, jsonb, uuid, jsonb, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, text, text, text, boolean, text, timestamptz, bigint, text, timestamptz, uuid, text, timestamptz, text[], text[], bytea[], text, text, text, jsonb, timestamptz, text, uuid, text, bytea, jsonb)
  returns table (scope_ended boolean, key_inserted boolean)
  language plpgsql volatile
  as $fn$
  begin
    with grant_list as (
        select * from unnest($1::uuid[], $2::text[]) as g (consent_id, scope_id)
      ), ended as (
        select 1 from referrals.ended_grants e join grant_list g on e.consent_id = g.consent_id
        where e.scope_id = g.scope_id or e.scope_id = '*'
      ), idempotency as (
        insert into referrals.idempotency_keys (agency_id, key, command, request_hash, result)
        select $3::text, $4::text, $5::text, $6::text, $7::jsonb where not exists (select 1 from ended)
        on conflict do nothing returning key
      ), referral as (
        insert into referrals.referrals (id, subject_ref, from_agency, to_agency, priority, state, version, needs, language, interpreter_needed,
    do_not_contact, categories, grants, previous_referral_id, sent_by, sent_at, acknowledged_at, accepted_at, contact_at,
    closed_at, declined_at, withdrawn_at, acknowledge_due_at, accept_due_at, reason, suggested_agency, contact_method, escalated,
    taken_over_by, taken_over_at, reference_no, assigned_user, assigned_at, linked_referral_id, linked_agency, clock_starts_at, receipt_refs)
        select $8::uuid, $9::uuid, $10::text, $11::text, $12::text, $13::text, $14::integer, $15::jsonb, $16::text, $17::boolean, $18::boolean, $19::jsonb, $20::jsonb, $21::uuid, $22::jsonb, $23::timestamptz, $24::timestamptz, $25::timestamptz, $26::timestamptz, $27::timestamptz, $28::timestamptz, $29::timestamptz, $30::timestamptz, $31::timestamptz, $32::text, $33::text, $34::text, $35::boolean, $36::text, $37::timestamptz, $38::bigint, $39::text, $40::timestamptz, $41::uuid, $42::text, $43::timestamptz, $44::text[] where exists (select 1 from idempotency)
        returning id
      ), packet as (
        insert into referrals.packets (referral_id, category, sealed)
        select referral.id, section.category, section.sealed
        from referral, unnest($45::text[], $46::bytea[]) as section (category, sealed)
        returning 1
      ), transition as (
        insert into referrals.transitions (referral_id, from_state, to_state, event, actor, at, reason)
        select referral.id, $47::text, $48::text, $49::text, $50::jsonb, $51::timestamptz, $52::text from referral
        returning 1
      ), event as (
        insert into referrals.outbox (id, subject, payload, trace_context, created_at)
        select $53::uuid, $54::text, $55::bytea, $56::jsonb, clock_timestamp() from referral
        returning 1
      )
      select exists (select 1 from ended), exists (select 1 from idempotency) into scope_ended, key_inserted;
    -- Wakes the relay when the transaction commits (outboxNotify).
    if key_inserted then
      perform pg_notify('referrals_outbox', '');
    end if;
    return next;
  end
  $fn$`);
  }
}
