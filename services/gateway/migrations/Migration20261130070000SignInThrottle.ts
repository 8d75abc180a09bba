import { Migration } from '@mikro-orm/migrations';

/**
 * Sign-in throttling per account and address, per address and per account (ADR 0021),
 * instead of one lock per account that anyone could set off.
 */
export class Migration20261130070000SignInThrottle extends Migration {
  override up(): void {
    // scope: 'account' (key: the username as typed), 'address' (key: the address, an IPv6 one
    // by its /64) or 'accountAddress' (key: username|address). Unknown usernames are counted
    // too, so the answers do not tell which names exist.
    this.addSql(`create table "gateway".sign_in_failures (
      scope text not null check (scope in ('account', 'accountAddress', 'address')),
      key text not null,
      failures integer not null default 0,
      last_at timestamptz,
      primary key (scope, key)
    )`);
    this.addSql('create index sign_in_failures_by_time on "gateway".sign_in_failures (last_at)');
    this.addSql('alter table "gateway".users drop column failures, drop column locked_until');
  }
}
