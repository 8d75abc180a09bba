import { Migration } from '@mikro-orm/migrations';

/**
 * Webhooks (ADR 46): each agency's endpoints, and each event to deliver to one. A delivery row is
 * written in the transaction that marks its event in the inbox (one durable consumer per
 * subscription), so none is lost or made twice; its body is the thin JSON signed at every
 * attempt (ids, codes, states and times: nothing of the person).
 */
export class Migration20261203030000Webhooks extends Migration {
  override up(): void {
    this.addSql(`create table "gateway".webhook_subscriptions (
      subscription_id uuid primary key,
      agency_id text not null,
      url text not null,
      direction text not null check (direction in ('received', 'sent')),
      event_types text[] not null,
      description text not null default '',
      secret text not null,
      previous_secret text,
      previous_secret_expires_at timestamptz,
      secret_rotated_at timestamptz,
      created_by text not null,
      created_at timestamptz not null,
      deleted_at timestamptz,
      -- Set once its durable consumer is removed from NATS after the deletion.
      consumer_removed_at timestamptz
    )`);
    this.addSql(
      'create index webhook_subscriptions_by_agency on "gateway".webhook_subscriptions (agency_id, created_at)',
    );
    this.addSql(`create table "gateway".webhook_deliveries (
      delivery_id uuid primary key,
      subscription_id uuid not null references "gateway".webhook_subscriptions (subscription_id),
      event_id uuid not null,
      event_type text not null,
      referral_id text not null,
      -- The event's position in the stream: the order of a referral's deliveries.
      sequence bigint not null,
      payload text not null,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'cancelled')),
      attempts int not null default 0,
      last_status_code int,
      last_error text,
      created_at timestamptz not null,
      first_attempt_at timestamptz,
      last_attempt_at timestamptz,
      next_attempt_at timestamptz not null,
      delivered_at timestamptz,
      unique (subscription_id, event_id)
    )`);
    this.addSql(`create index webhook_deliveries_due on "gateway".webhook_deliveries (next_attempt_at)
      where status = 'pending'`);
    this.addSql(`create index webhook_deliveries_in_order on "gateway".webhook_deliveries
      (subscription_id, referral_id, sequence) where status = 'pending'`);
    this.addSql(`create index webhook_deliveries_log on "gateway".webhook_deliveries
      (subscription_id, created_at desc, delivery_id)`);
  }
}
