import { Migration } from '@mikro-orm/migrations';

export class Migration20261130070000ReferralVersions extends Migration {
  override up(): void {
    // Per referral, the version (and the state at it) of the last referral event applied to its
    // timers: an event at or below it arrives late and changes nothing (domain/timer-plan.ts).
    // A row is also the lock that takes one event of a referral at a time across instances.
    this.addSql(`create table "escalation".referrals (
      referral_id uuid primary key,
      version bigint not null default 0 check (version >= 0),
      state text not null default '',
      applied_at timestamptz not null default now()
    )`);
  }
}
