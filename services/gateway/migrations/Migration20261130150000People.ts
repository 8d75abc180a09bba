import { Migration } from '@mikro-orm/migrations';
import { eventTablesSql } from '@passage/events';

/**
 * People administration (ADR 30): accounts can be disabled, carry an email for set-password
 * links and a temporary-password flag; OpenID Connect sign-in goes through explicit links of
 * an issuer's subject to an account; one-time set-password links are stored by their hash.
 * And the gateway's outbox, for its audit.v1.admin_action events.
 */
export class Migration20261130150000People extends Migration {
  override up(): void {
    this.addSql(`alter table "gateway".users
      add column email text not null default '',
      add column disabled_at timestamptz,
      add column must_change_password boolean not null default false,
      add column created_at timestamptz not null default now()`);
    this.addSql('create index users_by_agency on "gateway".users (agency_id, user_id)');
    this.addSql(`create table "gateway".oidc_subjects (
      issuer text not null,
      subject text not null,
      user_id text not null references "gateway".users (user_id),
      created_at timestamptz not null default now(),
      primary key (issuer, subject)
    )`);
    this.addSql('create index oidc_subjects_by_user on "gateway".oidc_subjects (user_id)');
    // Only the SHA-256 of a link's token: a copy of the table sets no password.
    this.addSql(`create table "gateway".password_links (
      token_hash bytea primary key,
      user_id text not null references "gateway".users (user_id),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    )`);
    this.addSql('create index password_links_by_user on "gateway".password_links (user_id)');
    for (const sql of eventTablesSql('gateway')) this.addSql(sql);
  }
}
