import { describe, expect, it } from 'vitest';
import { PassageError, createLogger } from '@passage/platform';
import {
  WebhookSender,
  Webhooks,
  type AttemptOutcome,
  type ClaimedDelivery,
  type DeliveryQueue,
  type HostResolver,
  type SubscriptionRecord,
  type WebhookStore,
  type WebhookTransport,
} from './webhooks.ts';

const log = createLogger('webhooks-test', 'silent');
const t0 = new Date('2026-12-03T12:00:00Z');

/** A DNS that answers what the test says, and can change its answer (a rebinding). */
class Dns implements HostResolver {
  readonly answers = new Map<string, string[]>();
  addresses(host: string): Promise<string[]> {
    const found = this.answers.get(host);
    return found ? Promise.resolve(found) : Promise.reject(new Error('ENOTFOUND'));
  }
}

function delivery(overrides: Partial<ClaimedDelivery> = {}): ClaimedDelivery {
  return {
    deliveryId: 'd1',
    subscriptionId: 's1',
    referralId: 'r1',
    sequence: 1,
    blocked: false,
    url: 'https://cms.agency.example/hooks',
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    payload: '{}',
    attempts: 0,
    firstAttemptAt: undefined,
    ...overrides,
  };
}

/** The queue as the sender sees it: what is due, and what the sender recorded. */
class Queue implements DeliveryQueue {
  due: ClaimedDelivery[] = [];
  readonly outcomes: { deliveryId: string; outcome: AttemptOutcome; next?: Date | undefined; delivered: boolean }[] =
    [];
  claim(
    _limit: number,
    _now: Date,
    _lease: Date,
    choose: (due: readonly ClaimedDelivery[]) => readonly ClaimedDelivery[],
  ): Promise<ClaimedDelivery[]> {
    return Promise.resolve([...choose(this.due)]);
  }
  delivered(deliveryId: string, outcome: AttemptOutcome): Promise<void> {
    this.outcomes.push({ deliveryId, outcome, delivered: true });
    return Promise.resolve();
  }
  failed(deliveryId: string, outcome: AttemptOutcome, next: Date | undefined): Promise<void> {
    this.outcomes.push({ deliveryId, outcome, next, delivered: false });
    return Promise.resolve();
  }
}

/** A receiver answering a fixed status, recording where each POST was connected. */
class Receiver implements WebhookTransport {
  status = 204;
  readonly posts: { address: string; webhookId: string }[] = [];
  post(request: Parameters<WebhookTransport['post']>[0]): Promise<number> {
    this.posts.push({ address: request.address, webhookId: request.webhookId });
    return Promise.resolve(this.status);
  }
}

function sender(queue: Queue, receiver: Receiver, dns: Dns, now: () => Date = () => t0) {
  return new WebhookSender({
    queue,
    transport: receiver,
    resolver: dns,
    policy: 'public-https',
    log,
    timeoutMs: 10_000,
    now,
    random: () => 0.5,
  });
}

describe('the webhook sender', () => {
  it('connects to the address it checked, and records a 2xx as delivered', async () => {
    const [queue, receiver, dns] = [new Queue(), new Receiver(), new Dns()];
    dns.answers.set('cms.agency.example', ['93.184.215.14', '2606:2800:21f:cb07::1']);
    queue.due = [delivery()];
    expect(await sender(queue, receiver, dns).runOnce()).toBe(1);
    expect(receiver.posts).toEqual([{ address: '93.184.215.14', webhookId: 'd1' }]);
    expect(queue.outcomes).toEqual([
      { deliveryId: 'd1', delivered: true, outcome: { at: t0, firstAttemptAt: t0, statusCode: 204, error: '' } },
    ]);
  });

  it('checks the address again at every delivery: a name that now points inside is refused, never connected to', async () => {
    const [queue, receiver, dns] = [new Queue(), new Receiver(), new Dns()];
    // At registration it was public; now its DNS answers a private address besides (a rebinding).
    dns.answers.set('cms.agency.example', ['93.184.215.14', '10.0.0.7']);
    queue.due = [delivery()];
    await sender(queue, receiver, dns).runOnce();
    expect(receiver.posts).toEqual([]);
    expect(queue.outcomes).toHaveLength(1);
    expect(queue.outcomes[0]!.outcome.error).toBe('address_refused');
    expect(queue.outcomes[0]!.next).toEqual(new Date(t0.getTime() + 5_000));
  });

  it('retries a failure (an error status, a redirect, a name that does not resolve) and gives up after 24 hours', async () => {
    const [queue, receiver, dns] = [new Queue(), new Receiver(), new Dns()];
    dns.answers.set('cms.agency.example', ['93.184.215.14']);
    const later = new Date(t0.getTime() + 24 * 3_600_000);
    queue.due = [
      delivery({ deliveryId: 'd1', referralId: 'r1', attempts: 3, firstAttemptAt: new Date(t0.getTime() - 60_000) }),
      delivery({ deliveryId: 'd2', referralId: 'r2', url: 'https://gone.agency.example/' }),
    ];
    receiver.status = 302;
    await sender(queue, receiver, dns).runOnce();
    const byId = new Map(queue.outcomes.map((o) => [o.deliveryId, o]));
    expect(byId.get('d1')!.outcome.error).toBe('http_302');
    expect(byId.get('d1')!.outcome.statusCode).toBe(302);
    expect(byId.get('d1')!.next).toEqual(new Date(t0.getTime() + 8 * 5_000)); // after the fourth attempt: 5 s × 2³
    expect(byId.get('d2')!.outcome.error).toBe('dns_failed');

    const [queue2, receiver2] = [new Queue(), new Receiver()];
    receiver2.status = 503;
    queue2.due = [delivery({ attempts: 33, firstAttemptAt: t0 })];
    await sender(queue2, receiver2, dns, () => later).runOnce();
    expect(queue2.outcomes).toHaveLength(1);
    expect(queue2.outcomes[0]!.outcome.error).toBe('http_503');
    expect(queue2.outcomes[0]!.next).toBeUndefined(); // given up on: failed
  });

  it('sends nothing waiting behind an earlier delivery of its referral', async () => {
    const [queue, receiver, dns] = [new Queue(), new Receiver(), new Dns()];
    dns.answers.set('cms.agency.example', ['93.184.215.14']);
    queue.due = [
      delivery({ deliveryId: 'd2', sequence: 9, blocked: true }),
      delivery({ deliveryId: 'd3', referralId: 'r2' }),
    ];
    await sender(queue, receiver, dns).runOnce();
    expect(receiver.posts.map((p) => p.webhookId)).toEqual(['d3']);
  });
});

/** A store that only counts what it was asked to keep. */
class Store implements Pick<WebhookStore, 'create'> {
  readonly created: SubscriptionRecord[] = [];
  create(subscription: SubscriptionRecord): Promise<void> {
    this.created.push(subscription);
    return Promise.resolve();
  }
}

describe('registering an endpoint', () => {
  const supervisor = { userId: 'london-supervisor', agencyId: 'london-coalition', roles: ['supervisor'] };

  function webhooks(store: Store, dns: Dns, policy: 'public-https' | 'any' = 'public-https') {
    const started: string[] = [];
    const use = new Webhooks({
      store: store as unknown as WebhookStore,
      resolver: dns,
      consumers: {
        started: (s) => Promise.resolve(void started.push(s.subscriptionId)),
        deleted: () => Promise.resolve(),
      },
      agencyExists: () => Promise.resolve(true),
      newSecret: () => 'whsec_c2VjcmV0',
      policy,
      log,
      now: () => t0,
      newId: () => '018f0000-0000-7000-8000-000000000001',
    });
    return { use, started };
  }

  const input = (url: string) => ({ agencyId: '', url, direction: '', eventTypes: [], description: ' CMS ' });

  it('keeps a public https endpoint, with the default events, and makes its consumer', async () => {
    const [store, dns] = [new Store(), new Dns()];
    dns.answers.set('cms.agency.example', ['93.184.215.14']);
    const { use, started } = webhooks(store, dns);
    const { subscription, secret } = await use.create(supervisor, input('https://cms.agency.example/hooks'));
    expect(secret).toBe('whsec_c2VjcmV0');
    expect(subscription).toMatchObject({
      agencyId: 'london-coalition',
      direction: 'received',
      eventTypes: ['sent', 'escalated', 'withdrawn', 'message_posted'],
      description: 'CMS',
      createdAt: t0,
    });
    expect(store.created).toHaveLength(1);
    expect(started).toEqual([subscription.subscriptionId]);
  });

  it.each([
    ['http://cms.agency.example/hooks', /https:\/\/ address/],
    ['https://intranet.agency.example/hooks', /private address .*\(192\.168\.4\.2\)/],
    ['https://sneaky.agency.example/hooks', /loopback address \(::1\)/],
    ['https://unknown.agency.example/hooks', /does not resolve/],
    ['https://169.254.169.254/', /metadata/],
  ])('refuses %s in production, and keeps nothing', async (url, reason) => {
    const [store, dns] = [new Store(), new Dns()];
    dns.answers.set('cms.agency.example', ['93.184.215.14']);
    dns.answers.set('intranet.agency.example', ['192.168.4.2']);
    dns.answers.set('sneaky.agency.example', ['93.184.215.14', '::1']);
    const { use, started } = webhooks(store, dns);
    const refused = await use.create(supervisor, input(url)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PassageError);
    expect((refused as PassageError).code).toBe('invalid_argument');
    expect((refused as PassageError).violations[0]).toMatchObject({ field: 'url' });
    expect((refused as PassageError).violations[0]!.description).toMatch(reason);
    expect(store.created).toEqual([]);
    expect(started).toEqual([]);
  });

  it('takes a receiver on this machine over http in development', async () => {
    const [store, dns] = [new Store(), new Dns()];
    dns.answers.set('localhost', ['127.0.0.1']);
    const { use } = webhooks(store, dns, 'any');
    const { subscription } = await use.create(supervisor, input('http://localhost:8999/hooks'));
    expect(subscription.url).toBe('http://localhost:8999/hooks');
  });
});
