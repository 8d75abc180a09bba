import { Migration } from '@mikro-orm/migrations';

/**
 * When a referral's sealed packet and notes were destroyed by the retention schedule
 * (docs/adr/0033-retention.md); null while it still holds them (or never did).
 */
export class Migration20261201000000PacketRetention extends Migration {
  override up(): void {
    this.addSql('alter table "referrals".referrals add column packet_destroyed_at timestamptz');
    // What the schedule looks for: ended referrals still holding their packet.
    this.addSql(`create index referrals_retention on "referrals".referrals
      ((coalesce(closed_at, declined_at, withdrawn_at)))
      where state in ('closed', 'declined', 'withdrawn') and packet_destroyed_at is null`);
  }
}
