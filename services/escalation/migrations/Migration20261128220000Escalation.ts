import { Migration } from '@mikro-orm/migrations';
import { eventTablesSql } from '@passage/events';

export class Migration20261128220000Escalation extends Migration {
  override up(): void {
    for (const sql of eventTablesSql('escalation')) this.addSql(sql);
    // One row per referral and target; ids and agencies only, the subject by its pseudonym.
    this.addSql(`create table "escalation".timers (
      id uuid primary key default gen_random_uuid(),
      referral_id uuid not null,
      target text not null check (target in ('acknowledge', 'accept')),
      due_at timestamptz not null,
      subject_ref uuid not null,
      from_agency text not null,
      to_agency text not null,
      priority text not null,
      needs text[] not null,
      state text not null default 'pending' check (state in ('pending', 'fired', 'cancelled')),
      settled_reason text,
      attempts integer not null default 0,
      next_attempt_at timestamptz,
      last_error text,
      created_at timestamptz not null default now(),
      fired_at timestamptz,
      unique (referral_id, target)
    )`);
    this.addSql(`create index timers_due on "escalation".timers (due_at) where state = 'pending'`);
    this.addSql(`create table "escalation".items (
      id uuid primary key default gen_random_uuid(),
      timer_id uuid not null references "escalation".timers (id),
      referral_id uuid not null,
      audience text not null check (audience in ('crisis_line', 'sender', 'supervisors')),
      for_agency text not null,
      missed_target text not null,
      due_at timestamptz not null,
      escalated_at timestamptz not null default now(),
      from_agency text not null,
      to_agency text not null,
      priority text not null,
      candidates jsonb not null default '[]',
      consent_covers_reader boolean not null default false,
      note text not null default '',
      unique (timer_id, audience)
    )`);
    this.addSql(`create index items_for_agency on "escalation".items (for_agency, escalated_at desc)`);
  }
}
