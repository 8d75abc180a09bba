import { Migration } from '@mikro-orm/migrations';

/**
 * The referral projection keeps each referral's short reference ("R-7K3M-Q9", from
 * ReferralChanged.reference), so an auditor finds a person's access log and the drill-down
 * lists name referrals by the reference people read out (docs/adr/0042-loop-closure-and-drill-down.md).
 * Null for a referral whose events predate references.
 */
export class Migration20261203060000ReferralReference extends Migration {
  override up(): void {
    this.addSql('alter table "audit".referrals add column reference text');
    this.addSql('create index audit_referrals_reference on "audit".referrals (reference) where reference is not null');
  }
}
