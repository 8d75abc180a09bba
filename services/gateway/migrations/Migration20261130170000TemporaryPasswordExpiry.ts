import { Migration } from '@mikro-orm/migrations';

/**
 * A temporary password works for 72 hours, as a set-password link does (ADR 30). Temporary
 * passwords given before this migration get their 72 hours from now.
 */
export class Migration20261130170000TemporaryPasswordExpiry extends Migration {
  override up(): void {
    this.addSql('alter table "gateway".users add column temporary_password_expires_at timestamptz');
    this.addSql(
      `update "gateway".users set temporary_password_expires_at = now() + interval '72 hours' where must_change_password`,
    );
  }
}
