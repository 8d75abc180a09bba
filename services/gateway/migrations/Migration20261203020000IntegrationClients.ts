import { Migration } from '@mikro-orm/migrations';

/**
 * Integration clients (ADR 45): an agency's own system with OAuth 2.0 client credentials. A
 * client's credentials (a secret's SHA-256, or a registered public key) — the current one has no
 * valid_until; a rotated-out one works until it. Access tokens by their SHA-256, with the
 * credential they were got with; the assertions' jti values, each spent once.
 */
export class Migration20261203020000IntegrationClients extends Migration {
  override up(): void {
    this.addSql(`create table "gateway".integration_clients (
      client_id text primary key,
      agency_id text not null,
      name text not null,
      auth_method text not null check (auth_method in ('client_secret', 'private_key_jwt')),
      created_by text not null,
      created_at timestamptz not null default now(),
      rotated_at timestamptz,
      revoked_at timestamptz,
      revoked_by text not null default ''
    )`);
    this.addSql('create index integration_clients_by_agency on "gateway".integration_clients (agency_id, client_id)');
    this.addSql(`create table "gateway".integration_client_credentials (
      credential_id uuid primary key,
      client_id text not null references "gateway".integration_clients (client_id),
      secret_hash bytea,
      public_jwk jsonb,
      key_algorithm text not null default '',
      key_thumbprint text not null default '',
      created_at timestamptz not null default now(),
      valid_until timestamptz,
      check ((secret_hash is null) <> (public_jwk is null))
    )`);
    this.addSql(
      'create index integration_client_credentials_by_client on "gateway".integration_client_credentials (client_id)',
    );
    this.addSql(`create table "gateway".integration_client_tokens (
      token_hash bytea primary key,
      client_id text not null references "gateway".integration_clients (client_id),
      credential_id uuid not null references "gateway".integration_client_credentials (credential_id),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    )`);
    this.addSql(
      'create index integration_client_tokens_by_client on "gateway".integration_client_tokens (client_id, expires_at)',
    );
    this.addSql(`create table "gateway".integration_client_assertions (
      client_id text not null references "gateway".integration_clients (client_id),
      jti text not null,
      expires_at timestamptz not null,
      primary key (client_id, jti)
    )`);
  }
}
