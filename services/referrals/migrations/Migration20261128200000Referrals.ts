import { Migration } from '@mikro-orm/migrations';
import { subjectKeyTableSql } from '@passage/crypto';
import { eventTablesSql } from '@passage/events';

export class Migration20261128200000Referrals extends Migration {
  override up(): void {
    this.addSql(`create table "referrals".referrals (
      id uuid primary key,
      subject_ref uuid not null,
      from_agency text not null,
      to_agency text not null,
      priority text not null,
      state text not null,
      version integer not null,
      needs jsonb not null,
      language text not null,
      interpreter_needed boolean not null,
      do_not_contact boolean not null,
      categories jsonb not null,
      grants jsonb not null,
      previous_referral_id uuid,
      sent_by jsonb not null,
      sent_at timestamptz not null,
      acknowledged_at timestamptz,
      accepted_at timestamptz,
      contact_at timestamptz,
      closed_at timestamptz,
      declined_at timestamptz,
      withdrawn_at timestamptz,
      acknowledge_due_at timestamptz not null,
      accept_due_at timestamptz not null,
      reason text not null default '',
      suggested_agency text not null default '',
      contact_method text not null default '',
      escalated boolean not null default false,
      note bytea
    )`);
    this.addSql('create index referrals_inbox on "referrals".referrals (to_agency, state)');
    this.addSql('create index referrals_outbox on "referrals".referrals (from_agency, state)');
    this.addSql('create index referrals_by_subject on "referrals".referrals (subject_ref)');
    this.addSql('create index referrals_grants on "referrals".referrals using gin (grants jsonb_path_ops)');
    this.addSql(`create table "referrals".packets (
      referral_id uuid not null references "referrals".referrals (id),
      category text not null,
      sealed bytea not null,
      primary key (referral_id, category)
    )`);
    this.addSql(`create table "referrals".transitions (
      seq bigserial primary key,
      referral_id uuid not null references "referrals".referrals (id),
      from_state text not null,
      to_state text not null,
      event text not null,
      actor jsonb not null,
      at timestamptz not null,
      reason text not null
    )`);
    this.addSql('create index transitions_by_referral on "referrals".transitions (referral_id, seq)');
    this.addSql(`create table "referrals".idempotency_keys (
      agency_id text not null,
      key text not null,
      command text not null,
      request_hash text not null,
      result jsonb not null,
      created_at timestamptz not null default now(),
      primary key (agency_id, key)
    )`);
    this.addSql(`create table "referrals".ended_grants (
      consent_id uuid not null,
      -- '*' when the whole consent ended
      scope_id text not null,
      ended_at timestamptz not null default now(),
      primary key (consent_id, scope_id)
    )`);
    // One live resend per declined referral.
    this.addSql(
      'create unique index referrals_one_resend on "referrals".referrals (previous_referral_id) where previous_referral_id is not null',
    );
    this.addSql(subjectKeyTableSql('referrals'));
    for (const sql of eventTablesSql('referrals')) this.addSql(sql);
  }
}
