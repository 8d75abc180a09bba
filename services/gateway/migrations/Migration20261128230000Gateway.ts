import { Migration } from '@mikro-orm/migrations';

/** People who sign in, and their sessions: server-side, so signing out or an admin revokes them. */
export class Migration20261128230000Gateway extends Migration {
  override up(): void {
    this.addSql(`create table "gateway".users (
      user_id text primary key,
      agency_id text not null,
      roles text[] not null,
      display_name text not null,
      language text not null default 'en' check (language in ('en', 'fr')),
      password_hash text not null,
      failures integer not null default 0,
      locked_until timestamptz
    )`);
    // The cookie holds a random id; only its SHA-256 is stored, so a copy of the table opens no session.
    this.addSql(`create table "gateway".sessions (
      id_hash bytea primary key,
      user_id text not null references "gateway".users (user_id),
      csrf_token text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz
    )`);
    this.addSql('create index sessions_by_user on "gateway".sessions (user_id)');
    // An OpenID Connect sign-in between the redirect to the issuer and its callback.
    this.addSql(`create table "gateway".oidc_logins (
      state text primary key,
      code_verifier text not null,
      nonce text not null,
      created_at timestamptz not null default now()
    )`);
  }
}
