import { PassageError, type Logger } from '@passage/platform';
import {
  addressRefusal,
  agencyFor,
  checkWebhookUrl,
  defaultEventTypes,
  defaultRetryPolicy,
  deliverable,
  hostName,
  isDelivered,
  isIpAddress,
  mayManage,
  refusalText,
  retryAfterFailure,
  type DeliveryStatus,
  type Direction,
  type DueDelivery,
  type RetryPolicy,
  type UrlPolicy,
  type WebhookCaller,
  type WebhookEventType,
} from '../domain/webhooks.ts';
import { errorCode } from './notifications.ts';
import { PollLoop } from './poll-loop.ts';

/** A subscription as it is kept, without its secrets. */
export interface SubscriptionRecord {
  readonly subscriptionId: string;
  readonly agencyId: string;
  readonly url: string;
  readonly direction: Direction;
  readonly eventTypes: readonly WebhookEventType[];
  readonly description: string;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly deletedAt: Date | undefined;
  readonly secretRotatedAt: Date | undefined;
}

export interface DeliveryRecord {
  readonly deliveryId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly referralId: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastStatusCode: number;
  readonly lastError: string;
  readonly createdAt: Date;
  readonly lastAttemptAt: Date | undefined;
  readonly nextAttemptAt: Date | undefined;
  readonly deliveredAt: Date | undefined;
}

/** One change to an agency's webhooks, for the audit log (audit.v1.webhook_changed). */
export interface WebhookAudit {
  readonly action: 'created' | 'deleted' | 'secret_rotated' | 'redelivered';
  readonly subscription: SubscriptionRecord;
  readonly deliveryId?: string;
  readonly actor: { readonly userId: string; readonly agencyId: string; readonly role: string };
  readonly at: Date;
}

/** The subscriptions and their delivery log; each change in one transaction with its audit event. */
export interface WebhookStore {
  create(subscription: SubscriptionRecord, secret: string, audit: WebhookAudit): Promise<void>;
  subscription(subscriptionId: string): Promise<SubscriptionRecord | undefined>;
  /** `agencyId` undefined: every agency's. */
  list(agencyId: string | undefined, includeDeleted: boolean): Promise<SubscriptionRecord[]>;
  /** Marks it deleted and cancels its pending deliveries; answers how many. */
  delete(subscriptionId: string, at: Date, audit: (record: SubscriptionRecord) => WebhookAudit): Promise<number>;
  rotate(subscriptionId: string, secret: string, previousUntil: Date, audit: WebhookAudit): Promise<void>;
  deliveries(
    subscriptionId: string,
    filter: { readonly status: string; readonly referralId: string },
    limit: number,
  ): Promise<DeliveryRecord[]>;
  /** Pending again, due at `at`, with a new retry window; undefined when it has no such delivery. */
  redeliver(
    subscriptionId: string,
    deliveryId: string,
    at: Date,
    audit: WebhookAudit,
  ): Promise<DeliveryRecord | undefined>;
}

/** A host's addresses (DNS); an error when it has none. */
export interface HostResolver {
  addresses(host: string): Promise<string[]>;
}

/** The durable consumers of the subscriptions (one each): made on registration, removed on deletion. */
export interface SubscriptionConsumers {
  started(subscription: SubscriptionRecord): Promise<void>;
  deleted(subscriptionId: string): Promise<void>;
}

export interface WebhooksOptions {
  readonly store: WebhookStore;
  readonly resolver: HostResolver;
  readonly consumers: SubscriptionConsumers;
  /** Whether an agency exists in the directory (an administrator names one). */
  readonly agencyExists: (agencyId: string) => Promise<boolean>;
  /** A new signing secret: whsec_ and the base64 of 32 random bytes. */
  readonly newSecret: () => string;
  readonly policy: UrlPolicy;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** How long deliveries carry a signature with the secret a rotation replaced. */
export const previousSecretMs = 24 * 3_600_000;

/** Where an endpoint's host may be reached now, or why it may not. */
export type Reach =
  { readonly address: string } | { readonly refused: 'dns_failed' | 'address_refused'; readonly description: string };

/**
 * Where a delivery connects: the endpoint's host checked now, each of its addresses (for a
 * name, as DNS answers now: a name that pointed at a public address at registration may not
 * any more) public under public-https; the first of them is what the delivery connects to, so
 * what was checked is what is reached.
 */
export async function reach(url: URL, policy: UrlPolicy, resolver: HostResolver): Promise<Reach> {
  const host = hostName(url);
  const addresses = isIpAddress(host) ? [host] : await resolver.addresses(host).catch(() => []);
  if (addresses.length === 0) return { refused: 'dns_failed', description: `the host ${host} does not resolve` };
  if (policy === 'public-https') {
    for (const address of addresses) {
      const refusal = addressRefusal(address);
      if (refusal) return { refused: 'address_refused', description: refusalText(refusal, address) };
    }
  }
  return { address: addresses[0]! };
}

const actorOf = (caller: WebhookCaller): WebhookAudit['actor'] => ({
  userId: caller.userId,
  agencyId: caller.agencyId,
  role: ['admin', 'supervisor', 'system'].find((role) => caller.roles.includes(role)) ?? caller.roles[0] ?? '',
});

/** The WebhookService's use cases (ADR 46): an agency's endpoints, their delivery log, a redelivery. */
export class Webhooks {
  readonly #o: Required<WebhooksOptions>;

  constructor(options: WebhooksOptions) {
    this.#o = { now: () => new Date(), newId: () => crypto.randomUUID(), ...options };
  }

  async create(
    caller: WebhookCaller,
    input: {
      readonly agencyId: string;
      readonly url: string;
      readonly direction: string;
      readonly eventTypes: readonly WebhookEventType[];
      readonly description: string;
    },
  ): Promise<{ subscription: SubscriptionRecord; secret: string }> {
    const agencyId = agencyFor(caller, input.agencyId);
    if (agencyId !== caller.agencyId && !(await this.#o.agencyExists(agencyId))) {
      throw PassageError.invalid([{ field: 'agency_id', description: `no agency ${agencyId} in the directory` }]);
    }
    const url = checkWebhookUrl(input.url, this.#o.policy);
    const reached = await reach(url, this.#o.policy, this.#o.resolver);
    if ('refused' in reached) throw PassageError.invalid([{ field: 'url', description: reached.description }]);
    const subscription: SubscriptionRecord = {
      subscriptionId: this.#o.newId(),
      agencyId,
      url: url.href,
      direction: input.direction === 'sent' ? 'sent' : 'received',
      eventTypes: [...new Set(input.eventTypes.length > 0 ? input.eventTypes : defaultEventTypes)],
      description: input.description.trim(),
      createdAt: this.#o.now(),
      createdBy: caller.userId,
      deletedAt: undefined,
      secretRotatedAt: undefined,
    };
    const secret = this.#o.newSecret();
    await this.#o.store.create(subscription, secret, {
      action: 'created',
      subscription,
      actor: actorOf(caller),
      at: subscription.createdAt,
    });
    // Its durable consumer now; should NATS not answer, every gateway's next look at the
    // subscriptions makes it (it starts at the subscription's creation, so nothing is missed).
    await this.#o.consumers
      .started(subscription)
      .catch((error: unknown) =>
        this.#o.log.warn(
          { subscriptionId: subscription.subscriptionId, err: errorCode(error) },
          'webhook consumer not made yet',
        ),
      );
    return { subscription, secret };
  }

  list(caller: WebhookCaller, agencyId: string, includeDeleted: boolean): Promise<SubscriptionRecord[]> {
    if (caller.roles.includes('admin')) return this.#o.store.list(agencyId || undefined, includeDeleted);
    return this.#o.store.list(agencyFor(caller, agencyId), includeDeleted);
  }

  /** A subscription the caller may manage; another agency's is as unknown as a missing one. */
  async get(caller: WebhookCaller, subscriptionId: string): Promise<SubscriptionRecord> {
    const found = await this.#o.store.subscription(subscriptionId);
    if (!found || !mayManage(caller, found.agencyId)) {
      throw new PassageError('not_found', `no webhook subscription ${subscriptionId}`);
    }
    return found;
  }

  async delete(
    caller: WebhookCaller,
    subscriptionId: string,
  ): Promise<{ subscription: SubscriptionRecord; cancelled: number }> {
    const found = await this.get(caller, subscriptionId);
    if (found.deletedAt) return { subscription: found, cancelled: 0 };
    const at = this.#o.now();
    const cancelled = await this.#o.store.delete(subscriptionId, at, (subscription) => ({
      action: 'deleted',
      subscription,
      actor: actorOf(caller),
      at,
    }));
    await this.#o.consumers
      .deleted(subscriptionId)
      .catch((error: unknown) =>
        this.#o.log.warn({ subscriptionId, err: errorCode(error) }, 'webhook consumer not removed yet'),
      );
    return { subscription: { ...found, deletedAt: at }, cancelled };
  }

  async rotate(
    caller: WebhookCaller,
    subscriptionId: string,
  ): Promise<{ subscription: SubscriptionRecord; secret: string; previousUntil: Date }> {
    const found = await this.#active(caller, subscriptionId);
    const at = this.#o.now();
    const secret = this.#o.newSecret();
    const previousUntil = new Date(at.getTime() + previousSecretMs);
    await this.#o.store.rotate(subscriptionId, secret, previousUntil, {
      action: 'secret_rotated',
      subscription: found,
      actor: actorOf(caller),
      at,
    });
    return { subscription: { ...found, secretRotatedAt: at }, secret, previousUntil };
  }

  async deliveries(
    caller: WebhookCaller,
    subscriptionId: string,
    filter: { readonly status: string; readonly referralId: string },
    pageSize: number,
  ): Promise<DeliveryRecord[]> {
    await this.get(caller, subscriptionId);
    return this.#o.store.deliveries(subscriptionId, filter, pageSize > 0 ? Math.min(pageSize, 500) : 50);
  }

  async redeliver(caller: WebhookCaller, subscriptionId: string, deliveryId: string): Promise<DeliveryRecord> {
    const found = await this.#active(caller, subscriptionId);
    const at = this.#o.now();
    const delivery = await this.#o.store.redeliver(subscriptionId, deliveryId, at, {
      action: 'redelivered',
      subscription: found,
      deliveryId,
      actor: actorOf(caller),
      at,
    });
    if (!delivery) throw new PassageError('not_found', `no delivery ${deliveryId} of this subscription`);
    return delivery;
  }

  async #active(caller: WebhookCaller, subscriptionId: string): Promise<SubscriptionRecord> {
    const found = await this.get(caller, subscriptionId);
    if (found.deletedAt) throw new PassageError('failed_precondition', 'this webhook subscription was deleted');
    return found;
  }
}

/** A delivery claimed for an attempt, with what its attempt needs. */
export interface ClaimedDelivery extends DueDelivery {
  readonly url: string;
  /** The current secret first, then one a rotation replaced less than a day ago. */
  readonly secrets: readonly string[];
  readonly payload: string;
  /** Attempts before this one. */
  readonly attempts: number;
  /** Unset before the first attempt (and after a redelivery by hand: a new window). */
  readonly firstAttemptAt: Date | undefined;
}

export interface DeliveryQueue {
  /**
   * Due deliveries (pending, next attempt passed), those whose referral has an earlier one
   * pending marked `blocked`, unblocked first; each locked until the caller's `lease` answers
   * which of them to lease until `leaseUntil` (a crash mid-attempt: tried again when it ends).
   */
  claim(
    limit: number,
    now: Date,
    leaseUntil: Date,
    choose: (due: readonly ClaimedDelivery[]) => readonly ClaimedDelivery[],
  ): Promise<ClaimedDelivery[]>;
  delivered(deliveryId: string, outcome: AttemptOutcome): Promise<void>;
  /** `nextAttemptAt` undefined: given up on (failed). */
  failed(deliveryId: string, outcome: AttemptOutcome, nextAttemptAt: Date | undefined): Promise<void>;
}

export interface AttemptOutcome {
  readonly at: Date;
  readonly firstAttemptAt: Date;
  /** The receiver's HTTP status; 0 when it gave none. */
  readonly statusCode: number;
  readonly error: string;
}

/** One signed POST to an endpoint, connected to the address given; answers the HTTP status. */
export interface WebhookTransport {
  post(request: {
    readonly url: URL;
    readonly address: string;
    readonly webhookId: string;
    readonly secrets: readonly string[];
    readonly body: string;
    readonly at: Date;
  }): Promise<number>;
}

export interface WebhookSenderOptions {
  readonly queue: DeliveryQueue;
  readonly transport: WebhookTransport;
  readonly resolver: HostResolver;
  readonly policy: UrlPolicy;
  readonly log: Logger;
  /** How long an attempt may take (the transport's timeout); a lease lasts twice this, and 5 s more. */
  readonly timeoutMs: number;
  readonly retry?: RetryPolicy;
  readonly pollMs?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
  /** Told of each attempt's outcome (metrics). */
  readonly onAttempt?: (outcome: 'delivered' | 'retry' | 'failed') => void;
}

/**
 * Delivers what the subscriptions' consumers queued: due deliveries, at most one per referral
 * and subscription at a time and in order (domain `deliverable`), signed and sent, each to its
 * endpoint's address checked again now. A failure is retried with exponential backoff and
 * jitter for at least 24 hours, then given up on (failed); never stopping the gateway. Logs
 * name the delivery and an error code, never the endpoint's address or the body.
 */
export class WebhookSender {
  readonly #o: Required<Omit<WebhookSenderOptions, 'onAttempt'>> & Pick<WebhookSenderOptions, 'onAttempt'>;
  readonly #loop: PollLoop;

  constructor(options: WebhookSenderOptions) {
    this.#o = {
      retry: defaultRetryPolicy,
      pollMs: 1_000,
      now: () => new Date(),
      random: Math.random,
      ...options,
    };
    // After deliveries went, at once again: more of their referrals' may be waiting behind them.
    this.#loop = new PollLoop(
      async () => (await this.runOnce()) > 0,
      this.#o.pollMs,
      (error) => this.#o.log.warn({ err: errorCode(error) }, 'webhooks: queue unreadable'),
    );
  }

  start(): void {
    this.#loop.start();
  }

  /** Looks at the queue now (a consumer just queued a delivery). */
  wake(): void {
    this.#loop.wake();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Attempts what may go now; answers how many attempts were made. */
  async runOnce(): Promise<number> {
    const now = this.#o.now();
    const claimed = await this.#o.queue.claim(
      100,
      now,
      new Date(now.getTime() + 2 * this.#o.timeoutMs + 5_000),
      (due) => deliverable(due),
    );
    await Promise.all(claimed.map((delivery) => this.#attempt(delivery)));
    return claimed.length;
  }

  async #attempt(delivery: ClaimedDelivery): Promise<void> {
    const { log } = this.#o;
    const at = this.#o.now();
    const firstAttemptAt = delivery.firstAttemptAt ?? at;
    const attempt = delivery.attempts + 1;
    let statusCode = 0;
    let error = '';
    try {
      const url = new URL(delivery.url);
      const reached = await reach(url, this.#o.policy, this.#o.resolver);
      if ('refused' in reached) error = reached.refused;
      else {
        statusCode = await this.#o.transport.post({
          url,
          address: reached.address,
          webhookId: delivery.deliveryId,
          secrets: delivery.secrets,
          body: delivery.payload,
          at,
        });
        if (!isDelivered(statusCode)) error = `http_${statusCode}`;
      }
    } catch (failure) {
      error = errorCode(failure);
    }
    const outcome = { at, firstAttemptAt, statusCode, error };
    const ids = { deliveryId: delivery.deliveryId, subscriptionId: delivery.subscriptionId, attempt };
    if (!error) {
      await this.#o.queue.delivered(delivery.deliveryId, outcome);
      this.#o.onAttempt?.('delivered');
      log.info({ ...ids, status: statusCode }, 'webhook delivered');
      return;
    }
    const next = retryAfterFailure(attempt, firstAttemptAt, at, this.#o.random(), this.#o.retry);
    await this.#o.queue.failed(delivery.deliveryId, outcome, next);
    this.#o.onAttempt?.(next ? 'retry' : 'failed');
    if (next) log.warn({ ...ids, err: error, next }, 'webhook delivery failed; will retry');
    else log.error({ ...ids, err: error }, 'webhook delivery given up on after its retries');
  }
}
