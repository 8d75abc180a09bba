import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { createEnvelope, enqueueEvents, type Topology } from '@passage/events';
import { metrics } from '@passage/platform';
import type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryQueue,
  DeliveryRecord,
  SubscriptionRecord,
  WebhookAudit,
  WebhookStore,
} from '../../app/webhooks.ts';
import { endpointHost, isWebhookEventType, type DeliveryStatus } from '../../domain/webhooks.ts';
import { pgArray } from '../notify/store.ts';

type Time = Date | string;
const time = (value: Time): Date => new Date(value);
const maybe = (value: Time | null): Date | undefined => (value === null ? undefined : new Date(value));

interface SubscriptionRow {
  subscription_id: string;
  agency_id: string;
  url: string;
  direction: string;
  event_types: string[];
  description: string;
  created_at: Time;
  created_by: string;
  deleted_at: Time | null;
  secret_rotated_at: Time | null;
}

const subscriptionColumns = `subscription_id, agency_id, url, direction, event_types, description, created_at,
  created_by, deleted_at, secret_rotated_at`;

export const subscriptionOf = (row: SubscriptionRow): SubscriptionRecord => ({
  subscriptionId: row.subscription_id,
  agencyId: row.agency_id,
  url: row.url,
  direction: row.direction === 'sent' ? 'sent' : 'received',
  eventTypes: row.event_types.filter(isWebhookEventType),
  description: row.description,
  createdAt: time(row.created_at),
  createdBy: row.created_by,
  deletedAt: maybe(row.deleted_at),
  secretRotatedAt: maybe(row.secret_rotated_at),
});

interface DeliveryRow {
  delivery_id: string;
  event_id: string;
  event_type: string;
  referral_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Time;
  last_attempt_at: Time | null;
  next_attempt_at: Time;
  delivered_at: Time | null;
}

const deliveryColumns = `delivery_id, event_id, event_type, referral_id, status, attempts, last_status_code,
  last_error, created_at, last_attempt_at, next_attempt_at, delivered_at`;

const deliveryOf = (row: DeliveryRow): DeliveryRecord => ({
  deliveryId: row.delivery_id,
  eventId: row.event_id,
  eventType: row.event_type,
  referralId: row.referral_id,
  status: row.status,
  attempts: row.attempts,
  lastStatusCode: row.last_status_code ?? 0,
  lastError: row.last_error ?? '',
  createdAt: time(row.created_at),
  lastAttemptAt: maybe(row.last_attempt_at),
  nextAttemptAt: row.status === 'pending' ? time(row.next_attempt_at) : undefined,
  deliveredAt: maybe(row.delivered_at),
});

/**
 * The webhook tables (ADR 46): subscriptions, each change with its audit.v1.webhook_changed
 * event in the gateway's outbox; the delivery log; and the queue the sender claims from.
 */
export class PgWebhookStore implements WebhookStore, DeliveryQueue {
  readonly #orm: MikroORM;
  readonly #topology: Topology;

  constructor(orm: MikroORM, topology: Topology) {
    this.#orm = orm;
    this.#topology = topology;
  }

  #em(): EntityManager {
    return this.#orm.em.fork();
  }

  async #audit(em: EntityManager, audit: WebhookAudit): Promise<void> {
    const { subscription } = audit;
    const envelope = createEnvelope({
      type: 'audit.v1.webhook_changed',
      occurredAt: audit.at,
      actor: { agency: audit.actor.agencyId, user: audit.actor.userId, role: audit.actor.role },
      payload: {
        $case: 'webhookChanged',
        value: {
          action: audit.action,
          subscriptionId: subscription.subscriptionId,
          agencyId: subscription.agencyId,
          host: endpointHost(new URL(subscription.url)),
          direction: subscription.direction,
          eventTypes: [...subscription.eventTypes],
          deliveryId: audit.deliveryId ?? '',
        },
      },
    });
    await enqueueEvents(em, 'gateway', [{ subject: this.#topology.audit('webhook_changed'), envelope }]);
  }

  async create(s: SubscriptionRecord, secret: string, audit: WebhookAudit): Promise<void> {
    await this.#em().transactional(async (em) => {
      await em.execute(
        `insert into gateway.webhook_subscriptions
           (subscription_id, agency_id, url, direction, event_types, description, secret, created_by, created_at)
         values (?, ?, ?, ?, ?::text[], ?, ?, ?, ?)`,
        [
          s.subscriptionId,
          s.agencyId,
          s.url,
          s.direction,
          pgArray(s.eventTypes),
          s.description,
          secret,
          s.createdBy,
          s.createdAt,
        ],
      );
      await this.#audit(em, audit);
    });
  }

  async subscription(subscriptionId: string): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.#em().execute<SubscriptionRow[]>(
      `select ${subscriptionColumns} from gateway.webhook_subscriptions where subscription_id = ?`,
      [subscriptionId],
    );
    return row ? subscriptionOf(row) : undefined;
  }

  async list(agencyId: string | undefined, includeDeleted: boolean): Promise<SubscriptionRecord[]> {
    const rows = await this.#em().execute<SubscriptionRow[]>(
      `select ${subscriptionColumns} from gateway.webhook_subscriptions
       where (?::text is null or agency_id = ?) ${includeDeleted ? '' : 'and deleted_at is null'}
       order by agency_id, created_at, subscription_id limit 500`,
      [agencyId ?? null, agencyId ?? null],
    );
    return rows.map(subscriptionOf);
  }

  async delete(subscriptionId: string, at: Date, audit: (record: SubscriptionRecord) => WebhookAudit): Promise<number> {
    return this.#em().transactional(async (em) => {
      const [row] = await em.execute<SubscriptionRow[]>(
        `update gateway.webhook_subscriptions set deleted_at = ? where subscription_id = ? and deleted_at is null
         returning ${subscriptionColumns}`,
        [at, subscriptionId],
      );
      if (!row) return 0;
      const cancelled = await em.execute<{ delivery_id: string }[]>(
        `update gateway.webhook_deliveries set status = 'cancelled'
         where subscription_id = ? and status = 'pending' returning delivery_id`,
        [subscriptionId],
      );
      await this.#audit(em, audit(subscriptionOf(row)));
      return cancelled.length;
    });
  }

  async rotate(subscriptionId: string, secret: string, previousUntil: Date, audit: WebhookAudit): Promise<void> {
    await this.#em().transactional(async (em) => {
      await em.execute(
        `update gateway.webhook_subscriptions
         set previous_secret = secret, previous_secret_expires_at = ?, secret = ?, secret_rotated_at = ?
         where subscription_id = ? and deleted_at is null`,
        [previousUntil, secret, audit.at, subscriptionId],
      );
      await this.#audit(em, audit);
    });
  }

  async deliveries(
    subscriptionId: string,
    filter: { readonly status: string; readonly referralId: string },
    limit: number,
  ): Promise<DeliveryRecord[]> {
    const rows = await this.#em().execute<DeliveryRow[]>(
      `select ${deliveryColumns} from gateway.webhook_deliveries
       where subscription_id = ? and (? = '' or status = ?) and (? = '' or referral_id = ?)
       order by created_at desc, sequence desc limit ?`,
      [subscriptionId, filter.status, filter.status, filter.referralId, filter.referralId, limit],
    );
    return rows.map(deliveryOf);
  }

  async redeliver(
    subscriptionId: string,
    deliveryId: string,
    at: Date,
    audit: WebhookAudit,
  ): Promise<DeliveryRecord | undefined> {
    return this.#em().transactional(async (em) => {
      const [row] = await em.execute<DeliveryRow[]>(
        `update gateway.webhook_deliveries set status = 'pending', next_attempt_at = ?, first_attempt_at = null
         where delivery_id = ? and subscription_id = ? returning ${deliveryColumns}`,
        [at, deliveryId, subscriptionId],
      );
      if (!row) return undefined;
      await this.#audit(em, audit);
      return deliveryOf(row);
    });
  }

  async claim(
    limit: number,
    now: Date,
    leaseUntil: Date,
    choose: (due: readonly ClaimedDelivery[]) => readonly ClaimedDelivery[],
  ): Promise<ClaimedDelivery[]> {
    return this.#em().transactional(async (em) => {
      // Unblocked first, so a referral's long queue behind a failing delivery cannot crowd out the rest.
      const rows = await em.execute<
        {
          delivery_id: string;
          subscription_id: string;
          referral_id: string;
          sequence: string;
          payload: string;
          attempts: number;
          first_attempt_at: Time | null;
          url: string;
          secret: string;
          previous_secret: string | null;
          blocked: boolean;
        }[]
      >(
        `select d.delivery_id, d.subscription_id, d.referral_id, d.sequence::text as sequence, d.payload,
           d.attempts, d.first_attempt_at, s.url, s.secret,
           case when s.previous_secret_expires_at > ? then s.previous_secret end as previous_secret,
           exists (select 1 from gateway.webhook_deliveries e
                   where e.subscription_id = d.subscription_id and e.referral_id = d.referral_id
                     and e.status = 'pending' and e.sequence < d.sequence) as blocked
         from gateway.webhook_deliveries d
         join gateway.webhook_subscriptions s on s.subscription_id = d.subscription_id
         where d.status = 'pending' and d.next_attempt_at <= ? and s.deleted_at is null
         order by blocked, d.next_attempt_at
         limit ?
         for update of d skip locked`,
        [now, now, limit],
      );
      const chosen = choose(
        rows.map((row) => ({
          deliveryId: row.delivery_id,
          subscriptionId: row.subscription_id,
          referralId: row.referral_id,
          sequence: Number(row.sequence),
          blocked: row.blocked,
          url: row.url,
          secrets: row.previous_secret ? [row.secret, row.previous_secret] : [row.secret],
          payload: row.payload,
          attempts: row.attempts,
          firstAttemptAt: maybe(row.first_attempt_at),
        })),
      );
      if (chosen.length > 0) {
        await em.execute(
          'update gateway.webhook_deliveries set next_attempt_at = ? where delivery_id = any(?::uuid[])',
          [leaseUntil, pgArray(chosen.map((d) => d.deliveryId))],
        );
      }
      return [...chosen];
    });
  }

  /** The pending deliveries gauge (ADR 31), read when metrics are collected; answers what removes it. */
  observe(): () => void {
    return metrics().observe(['webhookPending'], async (observe) => {
      const [row] = await this.#em().execute<{ count: number }[]>(
        `select count(*)::int as count from gateway.webhook_deliveries where status = 'pending'`,
      );
      observe('webhookPending', row?.count ?? 0);
    });
  }

  async delivered(deliveryId: string, o: AttemptOutcome): Promise<void> {
    await this.#em().execute(
      `update gateway.webhook_deliveries
       set status = 'delivered', attempts = attempts + 1, last_status_code = ?, last_error = null,
         last_attempt_at = ?, first_attempt_at = coalesce(first_attempt_at, ?), delivered_at = ?
       where delivery_id = ? and status = 'pending'`,
      [o.statusCode, o.at, o.firstAttemptAt, o.at, deliveryId],
    );
  }

  async failed(deliveryId: string, o: AttemptOutcome, nextAttemptAt: Date | undefined): Promise<void> {
    await this.#em().execute(
      `update gateway.webhook_deliveries
       set status = ?, attempts = attempts + 1, last_status_code = ?, last_error = ?, last_attempt_at = ?,
         first_attempt_at = coalesce(first_attempt_at, ?), next_attempt_at = coalesce(?, next_attempt_at)
       where delivery_id = ? and status = 'pending'`,
      [
        nextAttemptAt ? 'pending' : 'failed',
        o.statusCode || null,
        o.error.slice(0, 60),
        o.at,
        o.firstAttemptAt,
        nextAttemptAt ?? null,
        deliveryId,
      ],
    );
  }
}
