import { Migration } from '@mikro-orm/migrations';

/**
 * The first result of each consent command, under the caller agency's idempotency key
 * (as referrals keeps them). The subject reference lets an erasure blank the request
 * hashes of that person's commands: a hash over a grant covers the name and notes.
 */
export class Migration20261130100000IdempotencyKeys extends Migration {
  override up(): void {
    this.addSql(`create table "consent".idempotency_keys (
      agency_id text not null,
      key text not null,
      command text not null,
      request_hash text not null,
      subject_ref uuid,
      result jsonb not null,
      created_at timestamptz not null default now(),
      primary key (agency_id, key)
    )`);
    this.addSql('create index idempotency_keys_by_subject on "consent".idempotency_keys (subject_ref)');
  }
}
