import { Migration } from '@mikro-orm/migrations';

/**
 * The idle lock (ADR 35): each session's last input, in the table so every gateway process
 * agrees. Open sessions count from now.
 */
export class Migration20261130180000SessionIdleLock extends Migration {
  override up(): void {
    this.addSql('alter table "gateway".sessions add column last_input_at timestamptz');
    this.addSql('update "gateway".sessions set last_input_at = now() where revoked_at is null');
  }
}
