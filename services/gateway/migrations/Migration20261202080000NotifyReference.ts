import { Migration } from '@mikro-orm/migrations';

/** Notices and e-mails name a referral by its short reference, as the console and search do. */
export class Migration20261202080000NotifyReference extends Migration {
  override up(): void {
    this.addSql(`alter table "gateway".notify_referrals add column reference text not null default ''`);
  }
}
