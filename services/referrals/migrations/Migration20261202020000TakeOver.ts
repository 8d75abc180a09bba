import { Migration } from '@mikro-orm/migrations';

/**
 * The crisis line that took an escalated referral over, and when (docs/adr/0037-crisis-line-take-over.md).
 * '' and null while none did; to_agency stays the original recipient.
 */
export class Migration20261202020000TakeOver extends Migration {
  override up(): void {
    this.addSql(`alter table "referrals".referrals add column taken_over_by text not null default ''`);
    this.addSql('alter table "referrals".referrals add column taken_over_at timestamptz');
    // The crisis line's inbox holds what it took over.
    this.addSql(
      `create index referrals_taken_over on "referrals".referrals (taken_over_by, state) where taken_over_by <> ''`,
    );
  }
}
