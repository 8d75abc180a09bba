import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import {
  IdempotentConsumer,
  familyDurable,
  webhookConsumerPrefix,
  type Envelope,
  type EventHandler,
  type Topology,
} from '@passage/events';
import { untraced, type Logger } from '@passage/platform';
import type { SubscriptionConsumers, SubscriptionRecord } from '../../app/webhooks.ts';
import { errorCode } from '../../app/notifications.ts';
import { isWebhookEventType, webhookPayload, type WebhookEventFacts } from '../../domain/webhooks.ts';
import { deliveryIdOf } from './signing.ts';
import { subscriptionOf } from './store.ts';

/** The facts a delivery carries, from a referral event on the bus (undefined for an event no subscription takes). */
export function webhookFacts(envelope: Envelope, subject: string): WebhookEventFacts | undefined {
  // The subject's last token names the event (referral.v1.<from>.<to>.<event>).
  const type = subject.split('.').at(-1) ?? '';
  if (!isWebhookEventType(type)) return undefined;
  const changed = envelope.payload?.$case === 'referralChanged' ? envelope.payload.value : undefined;
  const posted = envelope.payload?.$case === 'messagePosted' ? envelope.payload.value : undefined;
  const referralId = envelope.referralId || changed?.referralId || posted?.referralId || '';
  if (!referralId) return undefined;
  return {
    eventId: envelope.id,
    type,
    referralId,
    occurredAt: envelope.occurredAt ?? new Date(0),
    fromAgency: envelope.fromAgency,
    toAgency: envelope.toAgency,
    priority: envelope.priority,
    reference: changed?.reference ?? '',
    state: changed?.state ?? '',
    version: changed?.version ?? 0,
    reason: changed?.reason ?? '',
    messageId: posted?.messageId ?? '',
    authorAgency: posted?.authorAgency ?? '',
  };
}

/**
 * A subscription's consumer handler: an event of a type it asked for becomes one delivery row,
 * in the transaction that marks the event in the inbox (ADR 5): once per subscription and event,
 * however often NATS hands it out; none for a subscription deleted meanwhile.
 */
export function webhookHandler(subscription: SubscriptionRecord, now: () => Date): EventHandler {
  return async ({ envelope, subject, sequence }, em: EntityManager) => {
    const facts = webhookFacts(envelope, subject);
    if (!facts || !subscription.eventTypes.includes(facts.type)) return;
    const at = now();
    await em.execute(
      `insert into gateway.webhook_deliveries
         (delivery_id, subscription_id, event_id, event_type, referral_id, sequence, payload, created_at, next_attempt_at)
       select ?, ?, ?, ?, ?, ?, ?, ?, ?
       where exists (select 1 from gateway.webhook_subscriptions where subscription_id = ? and deleted_at is null)
       on conflict (subscription_id, event_id) do nothing`,
      [
        deliveryIdOf(subscription.subscriptionId, envelope.id),
        subscription.subscriptionId,
        envelope.id,
        facts.type,
        facts.referralId,
        sequence ?? 0,
        webhookPayload(facts),
        at,
        at,
        subscription.subscriptionId,
      ],
    );
  };
}

export interface WebhookConsumersOptions {
  readonly nats: NatsConnection;
  readonly orm: MikroORM;
  readonly topology: Topology;
  readonly log: Logger;
  /** After a delivery row commits: the sender looks at the queue. */
  readonly queued: () => void;
  /** How often every gateway looks for subscriptions made or deleted elsewhere. */
  readonly reconcileMs?: number;
  readonly now?: () => Date;
}

/**
 * One durable consumer per subscription (ADR 46), `gateway-webhook-<subscription id>` on the
 * agency's received or sent referrals: made when the subscription is (starting at its creation,
 * so a consumer made late or made again misses nothing), removed when it is deleted. Every
 * gateway runs every active subscription's consumer (NATS shares the events out) and looks at
 * the subscriptions every few seconds for those made or deleted by another. One event pending
 * at a time: a consumer hands out a referral's events in the stream's order.
 */
export class WebhookConsumers implements SubscriptionConsumers {
  readonly #o: Required<WebhookConsumersOptions>;
  readonly #running = new Map<string, IdempotentConsumer>();
  #timer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;
  #stopped = false;

  constructor(options: WebhookConsumersOptions) {
    this.#o = { reconcileMs: 5_000, now: () => new Date(), ...options };
  }

  /** The durable consumer's name, stream and filter for a subscription. */
  durable(subscription: Pick<SubscriptionRecord, 'subscriptionId' | 'agencyId' | 'direction'>) {
    const { topology } = this.#o;
    const filter =
      subscription.direction === 'sent'
        ? topology.referralsFrom(subscription.agencyId)
        : topology.referralsTo(subscription.agencyId);
    return familyDurable(topology, webhookConsumerPrefix, subscription.subscriptionId, filter);
  }

  /** Brings the consumers up now and every few seconds; a database or NATS away holds back no start. */
  start(): void {
    this.#schedule(0);
  }

  async started(subscription: SubscriptionRecord): Promise<void> {
    if (this.#stopped || this.#running.has(subscription.subscriptionId)) return;
    const consumer = new IdempotentConsumer({
      ...this.durable(subscription),
      nats: this.#o.nats,
      orm: this.#o.orm,
      schema: 'gateway',
      handle: webhookHandler(subscription, this.#o.now),
      log: this.#o.log,
      maxAckPending: 1,
      startAt: subscription.createdAt,
      metricsName: 'gateway-webhook',
      afterCommit: () => this.#o.queued(),
    });
    this.#running.set(subscription.subscriptionId, consumer);
    try {
      await consumer.start();
    } catch (error) {
      this.#running.delete(subscription.subscriptionId);
      throw error;
    }
  }

  async deleted(subscriptionId: string): Promise<void> {
    const [row] = await this.#o.orm.em
      .fork()
      .execute<{ agency_id: string; direction: string }[]>(
        'select agency_id, direction from gateway.webhook_subscriptions where subscription_id = ?',
        [subscriptionId],
      );
    await this.#running.get(subscriptionId)?.stop();
    this.#running.delete(subscriptionId);
    if (!row) return;
    const { stream, name } = this.durable({
      subscriptionId,
      agencyId: row.agency_id,
      direction: row.direction === 'sent' ? 'sent' : 'received',
    });
    const jsm = await jetstreamManager(this.#o.nats);
    await jsm.consumers.delete(stream, name).catch((error: unknown) => {
      if (!/consumer not found/i.test(String(error))) throw error;
    });
    await this.#o.orm.em
      .fork()
      .execute(
        'update gateway.webhook_subscriptions set consumer_removed_at = ? where subscription_id = ? and consumer_removed_at is null',
        [this.#o.now(), subscriptionId],
      );
  }

  /**
   * Starts the consumers of active subscriptions this gateway does not run yet; stops those of
   * deleted ones and removes their durable consumers (once more after any gateway that ran one
   * stopped it, so that none is left made again behind a deletion).
   */
  async reconcile(): Promise<void> {
    const rows = await this.#o.orm.em.fork().execute<Parameters<typeof subscriptionOf>[0][]>(
      `select subscription_id, agency_id, url, direction, event_types, description, created_at, created_by,
         deleted_at, secret_rotated_at
       from gateway.webhook_subscriptions where deleted_at is null or consumer_removed_at is null`,
    );
    for (const subscription of rows.map(subscriptionOf)) {
      const { subscriptionId } = subscription;
      try {
        if (subscription.deletedAt) await this.deleted(subscriptionId);
        else await this.started(subscription);
      } catch (error) {
        this.#o.log.warn({ subscriptionId, err: errorCode(error) }, 'webhook consumer not brought up to date yet');
      }
    }
    for (const subscriptionId of [...this.#running.keys()]) {
      if (!rows.some((row) => row.subscription_id === subscriptionId)) await this.deleted(subscriptionId);
    }
  }

  #schedule(ms = this.#o.reconcileMs): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#reconciling = untraced(() => this.reconcile())
        .catch((error: unknown) => this.#o.log.warn({ err: errorCode(error) }, 'webhook subscriptions unreadable'))
        .finally(() => {
          this.#reconciling = undefined;
          this.#schedule();
        });
    }, ms);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#reconciling;
    await Promise.all([...this.#running.values()].map((consumer) => consumer.stop()));
    this.#running.clear();
  }
}
