import { Migration } from '@mikro-orm/migrations';

/**
 * Messages on a referral (docs/adr/0039-referral-messages.md): who wrote, when, and the body
 * sealed under the person's data key (null once an erasure or the retention schedule destroyed
 * it). A retried post finds its first result under (author_agency, idempotency_key).
 *
 * And whose a referral's internal note is (note_agency): a note written on decline or close is
 * the writing agency's own. Notes so far were all written by recipients (decline and close are
 * the recipient's steps).
 */
export class Migration20261202040000Messages extends Migration {
  override up(): void {
    this.addSql(`create table "referrals".messages (
      id uuid primary key,
      referral_id uuid not null references "referrals".referrals (id),
      author_agency text not null,
      author_user text not null,
      author_role text not null,
      kind text not null check (kind in ('message', 'decline_reason')),
      posted_at timestamptz not null,
      sealed bytea,
      idempotency_key text not null,
      request_hash text not null,
      unique (author_agency, idempotency_key)
    )`);
    this.addSql('create index messages_thread on "referrals".messages (referral_id, posted_at, id)');
    this.addSql('alter table "referrals".referrals add column note_agency text');
    this.addSql('update "referrals".referrals set note_agency = to_agency where note is not null');
  }
}
