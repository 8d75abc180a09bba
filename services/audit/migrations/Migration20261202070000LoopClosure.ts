import { Migration } from '@mikro-orm/migrations';

/**
 * Loop closure (docs/adr/0042-loop-closure-and-drill-down.md): the agency projection keeps the
 * opening hours the directory publishes (null: not known), and the referral projection keeps
 * the resend chain (previous_referral_id) and whether the referral arrived when its receiving
 * agency was closed (null: the agency's hours were not known then).
 */
export class Migration20261202070000LoopClosure extends Migration {
  override up(): void {
    this.addSql('alter table "audit".agencies add column hours jsonb');
    this.addSql('alter table "audit".referrals add column previous_referral_id uuid');
    this.addSql('alter table "audit".referrals add column after_hours boolean');
    this.addSql(`create index audit_referrals_previous on "audit".referrals (previous_referral_id)
      where previous_referral_id is not null`);
  }
}
