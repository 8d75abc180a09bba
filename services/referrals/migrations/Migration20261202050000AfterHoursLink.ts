import { Migration } from '@mikro-orm/migrations';

/**
 * After hours (docs/adr/0041-phone-hand-off-and-after-hours.md): the two referrals of a pair
 * sent under one consent — the 24/7 crisis line now, the agency when it opens — name each
 * other, and the agency's one records when its targets' clock starts (its next opening).
 */
export class Migration20261202050000AfterHoursLink extends Migration {
  override up(): void {
    this.addSql(`alter table "referrals".referrals
      add column linked_referral_id uuid,
      add column linked_agency text not null default '',
      add column clock_starts_at timestamptz`);
  }
}
