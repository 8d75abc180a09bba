import { Migration } from '@mikro-orm/migrations';

/** SCIM 2.0 provisioning clients (ADR 30): each for one agency, known by its bearer token's SHA-256. */
export class Migration20261130160000ScimClients extends Migration {
  override up(): void {
    this.addSql(`create table "gateway".scim_clients (
      client_id text primary key,
      agency_id text not null,
      token_hash bytea not null unique,
      created_by text not null,
      created_at timestamptz not null default now(),
      revoked_at timestamptz
    )`);
  }
}
