import { Migration } from '@mikro-orm/migrations';

/**
 * Notifications (ADR 40): who is on each side of a referral (from its events), each person's
 * notices in the console, their e-mail choices, and the e-mails still to send. No address is
 * queued: the person's (users.email) or the desk's (the directory) is looked up when sending.
 */
export class Migration20261202060000Notifications extends Migration {
  override up(): void {
    this.addSql(`create table "gateway".notify_referrals (
      referral_id text primary key,
      from_agency text not null,
      to_agency text not null,
      sent_by text not null default '',
      assigned_user text not null default '',
      version bigint not null default 0
    )`);
    this.addSql(`create table "gateway".notifications (
      notification_id uuid primary key,
      user_id text not null references "gateway".users (user_id),
      kind text not null,
      referral_id text not null,
      event_id text not null,
      created_at timestamptz not null default now(),
      read_at timestamptz,
      unique (user_id, event_id)
    )`);
    this.addSql('create index notifications_by_user on "gateway".notifications (user_id, created_at desc)');
    this.addSql(`create table "gateway".notification_preferences (
      user_id text primary key references "gateway".users (user_id),
      email_off text[] not null default '{}',
      updated_at timestamptz not null default now()
    )`);
    // One row per e-mail to send: to a person (user_id) or to an agency's desk (agency_id).
    this.addSql(`create table "gateway".notification_mail (
      mail_id uuid primary key,
      event_id text not null,
      kind text not null,
      referral_id text not null,
      user_id text,
      agency_id text,
      created_at timestamptz not null default now(),
      next_attempt_at timestamptz not null default now(),
      attempts int not null default 0,
      last_error text,
      sent_at timestamptz,
      skipped text,
      check ((user_id is null) <> (agency_id is null))
    )`);
    this.addSql(`create index notification_mail_due on "gateway".notification_mail (next_attempt_at)
      where sent_at is null and skipped is null`);
  }
}
