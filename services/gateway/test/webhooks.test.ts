import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referrals as pb } from '@passage/contracts';
import { Topology, connectNats, webhookConsumerPrefix } from '@passage/events';
import { callUnary, createLogger, loadConfig } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import { grantConsent, referralScope, startNetwork, type Network } from '@passage/referrals/testing';
import { runScript, sparePort, waitFor, waitUntil, type ScriptProcess } from '@passage/testing';
import { run } from '@passage/cli/main';
import { integrationClientToken } from './integration-clients-support.ts';
import { gatewayConfigSchema } from '../src/config.ts';
import { startGateway } from '../src/service.ts';
import { Http, demoPassword, type Session } from './support.ts';

// Webhooks (ADR 46), end to end: the gateway as a process of its own (killed with SIGKILL while
// it delivers), the directory, consent and referrals services in this one, and a receiver
// written here that verifies every delivery with the Standard Webhooks library — not with the
// gateway's signing code — and counts what it was given.

const gatewayDir = fileURLToPath(new URL('../', import.meta.url));

/** One POST the receiver was given. */
interface Received {
  readonly path: string;
  readonly webhookId: string;
  readonly type: string;
  readonly referralId: string;
  readonly eventId: string;
  readonly status: number;
}

/** Agencies' own systems: HTTP endpoints that check each signature and answer as told. */
class Receiver {
  readonly received: Received[] = [];
  /** Requests whose signature did not verify: must stay empty. */
  readonly unverified: string[] = [];
  /** Each endpoint's secret, by its path: what the system was shown when it registered. */
  readonly secrets = new Map<string, string>();
  /** Endpoints answering 503 (the system down), after recording the attempt. */
  readonly failing = new Set<string>();
  /** How long each answer takes (deliveries in flight when the gateway is killed). */
  delayMs = 0;
  port = 0;
  #server: Server | undefined;

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = this.#receive(request.url ?? '', body, request.headers);
        setTimeout(() => response.writeHead(status).end(), this.delayMs);
      });
    });
    const server = this.#server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
  }

  #receive(path: string, body: string, headers: IncomingHttpHeaders): number {
    const text = (name: string): string => String(headers[name] ?? '');
    let payload: { type: string; data: { referral_id: string; event_id: string } };
    try {
      payload = new Webhook(this.secrets.get(path) ?? 'whsec_').verify(body, {
        'webhook-id': text('webhook-id'),
        'webhook-timestamp': text('webhook-timestamp'),
        'webhook-signature': text('webhook-signature'),
      }) as typeof payload;
    } catch (error) {
      this.unverified.push(`${path} ${text('webhook-id')}: ${String(error)}`);
      return 401;
    }
    const status = this.failing.has(path) ? 503 : 200;
    this.received.push({
      path,
      webhookId: text('webhook-id'),
      type: payload.type,
      referralId: payload.data.referral_id,
      eventId: payload.data.event_id,
      status,
    });
    return status;
  }

  /** What an endpoint accepted (2xx), the first receipt of each delivery only, in the order received. */
  accepted(path: string): Received[] {
    const seen = new Set<string>();
    return this.received.filter(
      (r) => r.path === path && r.status === 200 && !seen.has(r.webhookId) && seen.add(r.webhookId),
    );
  }

  /** A referral's events in the order an endpoint first accepted them. */
  orderOf(path: string, referralId: string): string[] {
    return this.accepted(path)
      .filter((r) => r.referralId === referralId)
      .map((r) => r.type);
  }

  stop(): Promise<void> {
    const server = this.#server;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

let n: Network;
let gateway: ScriptProcess | undefined;
let http: Http;
let httpPort: number;
const receiver = new Receiver();
const sessions = new Map<string, Session>();
const as = async (user: string): Promise<Session> => {
  if (!sessions.has(user)) sessions.set(user, await http.signIn(user));
  return sessions.get(user)!;
};

/** The gateway, as `pnpm start` runs it: its own Node process, development settings. */
async function startGatewayProcess(): Promise<ScriptProcess> {
  const child = runScript(
    'src/main.ts',
    {
      ...n.referralsEnv,
      ...testTls('gateway').env,
      REFERRALS_ADDRESS: n.referralService!.address,
      SERVICE_TOKEN_KEY: n.serviceTokenKey,
      // Not running here: the gateway reports them down and serves on.
      AUDIT_ADDRESS: '127.0.0.1:9',
      ESCALATION_ADDRESS: '127.0.0.1:9',
      HTTP_PORT: String(httpPort),
      DEMO_USERS: 'on',
      DEMO_PASSWORD: demoPassword,
      SIGN_IN_PER_MINUTE: '1000',
      CONSOLE_DIR: '',
      LOG_LEVEL: 'warn',
      WEBHOOK_RETRY_BASE_SECONDS: '0.2',
      WEBHOOK_TIMEOUT_SECONDS: '2',
    },
    { cwd: gatewayDir },
  );
  const exited = child.exited().then(({ code, signal }) => {
    throw new Error(`the gateway exited (${code ?? signal}): ${child.output()}`);
  });
  await Promise.race([
    exited,
    waitUntil(
      async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.status === 200,
      120_000,
    ),
  ]);
  void exited.catch(() => undefined);
  return child;
}

beforeAll(async () => {
  n = await startNetwork('webhooks');
  await receiver.start();
  httpPort = await sparePort();
  http = new Http(`http://127.0.0.1:${httpPort}`);
  gateway = await startGatewayProcess();
}, 180_000);

afterAll(async () => {
  await gateway?.kill('SIGTERM');
  await receiver.stop();
  await n?.stop();
});

/** The commands of a referral's life, through the referrals service (the gateway may be down meanwhile). */
const referralsCall = {
  async send(): Promise<string> {
    const { subjectRef } = await grantConsent(n, 'peel-officer', [
      referralScope({ recipients: ['london-coalition'], categories: ['needs'] }),
    ]);
    const { referral } = await callUnary(
      n.referrals!.send.bind(n.referrals),
      {
        idempotencyKey: randomUUID(),
        subjectRef,
        fromAgency: 'peel-regional-police',
        toAgency: 'london-coalition',
        priority: pb.Priority.PRIORITY_STANDARD,
        needs: ['counselling'],
        language: 'en',
        interpreterNeeded: false,
        packet: [{ category: 'needs', content: 'Synthetic need: a safe place', withheld: false }],
      },
      n.as('peel-officer'),
    );
    return referral!.id;
  },
  escalate: (referralId: string) =>
    callUnary(
      n.referrals!.escalate.bind(n.referrals),
      { idempotencyKey: randomUUID(), referralId, target: 'acknowledge' },
      n.as({ userId: 'escalation-service', agencyId: 'passage-system', roles: ['service'] }),
    ),
  acknowledge: (referralId: string) =>
    callUnary(
      n.referrals!.acknowledge.bind(n.referrals),
      { idempotencyKey: randomUUID(), referralId, expectedVersion: 0 },
      n.as('london-intake'),
    ),
  message: (referralId: string) =>
    callUnary(
      n.referrals!.postMessage.bind(n.referrals),
      { idempotencyKey: randomUUID(), referralId, body: 'Synthetic: we will call tomorrow' },
      n.as('london-intake'),
    ),
  withdraw: (referralId: string) =>
    callUnary(
      n.referrals!.withdraw.bind(n.referrals),
      { idempotencyKey: randomUUID(), referralId, reason: 'person_withdrew', expectedVersion: 0 },
      n.as('peel-officer'),
    ),
};

/** The story each referral goes through, and the events it makes, in order. */
const story = ['sent', 'escalated', 'acknowledged', 'message_posted', 'withdrawn'] as const;
const storyTypes = story.map((event) => `referral.${event}`);

async function liveOneStory(): Promise<string> {
  const referralId = await referralsCall.send();
  await referralsCall.escalate(referralId);
  await referralsCall.acknowledge(referralId);
  await referralsCall.message(referralId);
  await referralsCall.withdraw(referralId);
  return referralId;
}

interface SubscriptionView {
  subscriptionId: string;
  agencyId: string;
  url: string;
  direction: string;
  eventTypes: string[];
}

interface DeliveryView {
  deliveryId: string;
  eventId: string;
  eventType: string;
  referralId: string;
  status: string;
  attempts: number;
  lastStatusCode: number;
  lastError: string;
  nextAttemptAt?: string;
}

/** A subscription of London's supervisor at an endpoint of its own, its secret given to the receiver. */
async function subscribe(eventTypes: readonly string[]): Promise<SubscriptionView & { path: string; secret: string }> {
  const path = `/hooks/${randomUUID()}`;
  const created = await http.json<{ subscription: SubscriptionView; secret: string }>('POST', '/api/webhooks', {
    session: await as('london-supervisor'),
    body: { url: `http://127.0.0.1:${receiver.port}${path}`, eventTypes, description: 'Synthetic case system' },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  receiver.secrets.set(path, created.body.secret);
  return { ...created.body.subscription, path, secret: created.body.secret };
}

async function deliveries(subscriptionId: string, query = ''): Promise<DeliveryView[]> {
  const session = await as('london-supervisor');
  // 503 says try again (Postgres, shared with other test files, refusing a connection for a moment).
  const answer = await waitFor(
    () =>
      http.json<{ deliveries: DeliveryView[] }>(
        'GET',
        `/api/webhooks/${subscriptionId}/deliveries?pageSize=500${query}`,
        { session },
      ),
    (found) => found.status !== 503,
    30_000,
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.deliveries;
}

async function unsubscribe(
  subscriptionId: string,
): Promise<{ status: number; body: { subscription: { deletedAt?: string }; cancelled: number } }> {
  return http.json('DELETE', `/api/webhooks/${subscriptionId}`, { session: await as('london-supervisor') });
}

/** The durable consumer of a subscription, as NATS describes it; undefined once removed. */
async function consumerOf(subscriptionId: string): Promise<{ filter: string } | undefined> {
  const nc = await connectNats({ NATS_URL: n.nats.url, PASSAGE_ENV: 'development' }, 'webhooks-test');
  try {
    const jsm = await jetstreamManager(nc);
    const stream = new Topology(n.nats.namespace).stream('referral').name;
    const info = await jsm.consumers
      .info(stream, `${webhookConsumerPrefix}${subscriptionId}`)
      .catch((error: unknown) => {
        if (/consumer not found/i.test(String(error))) return undefined;
        throw error;
      });
    return info && { filter: info.config.filter_subject ?? '' };
  } finally {
    await nc.close();
  }
}

describe('webhooks for an agency’s own system', () => {
  it('registers an endpoint for the supervisor’s agency, its secret shown once, and refuses bad ones', async () => {
    const supervisor = await as('london-supervisor');
    const subscription = await subscribe(['sent']);
    expect(subscription.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(subscription).toMatchObject({ agencyId: 'london-coalition', direction: 'received', eventTypes: ['sent'] });
    // Its durable consumer, named after it, on the agency's received referrals.
    expect(await consumerOf(subscription.subscriptionId)).toEqual({
      filter: new Topology(n.nats.namespace).referralsTo('london-coalition'),
    });
    // Listed, never with its secret again.
    const listed = await http.json<{ subscriptions: { subscriptionId: string }[] }>('GET', '/api/webhooks', {
      session: supervisor,
    });
    expect(listed.body.subscriptions.length).toBeGreaterThan(0);
    expect(listed.body.subscriptions.map((s) => s.subscriptionId)).toContain(subscription.subscriptionId);
    expect(JSON.stringify(listed.body)).not.toContain(subscription.secret);

    // Bad input changes nothing: a URL that is none, an unknown event, another agency's, an intake worker's.
    const count = listed.body.subscriptions.length;
    const badUrl = await http.json<{ violations: { field: string }[] }>('POST', '/api/webhooks', {
      session: supervisor,
      body: { url: 'ftp://127.0.0.1/hooks' },
    });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.violations.map((v) => v.field)).toEqual(['body.url']);
    const badEvent = await http.json('POST', '/api/webhooks', {
      session: supervisor,
      body: { url: `http://127.0.0.1:${receiver.port}/x`, eventTypes: ['sent', 'read_by_someone'] },
    });
    expect(badEvent.status).toBe(400);
    const otherAgency = await http.json('POST', '/api/webhooks', {
      session: supervisor,
      body: { url: `http://127.0.0.1:${receiver.port}/x`, agencyId: 'pact-ottawa' },
    });
    expect(otherAgency.status).toBe(403);
    const intake = await http.json('POST', '/api/webhooks', {
      session: await as('london-intake'),
      body: { url: `http://127.0.0.1:${receiver.port}/x` },
    });
    expect(intake.status).toBe(403);
    const unknown = await http.json('GET', `/api/webhooks/${randomUUID()}`, { session: supervisor });
    expect(unknown.status).toBe(404);
    const again = await http.json<{ subscriptions: unknown[] }>('GET', '/api/webhooks', { session: supervisor });
    expect(again.body.subscriptions).toHaveLength(count);
    expect((await unsubscribe(subscription.subscriptionId)).status).toBe(200);
  });

  it('delivers every event once signed and in order per referral, through a kill -9 of the gateway', async () => {
    const { subscriptionId, path } = await subscribe(story);
    receiver.delayMs = 40; // deliveries in flight when it dies
    const referralIds: string[] = [];
    referralIds.push(await liveOneStory());
    const lives = (async () => {
      for (let i = 0; i < 5; i++) referralIds.push(await liveOneStory());
    })();
    // Killed mid-stream: some of the first referral's deliveries made, others queued or in flight.
    await waitUntil(() => Promise.resolve(receiver.accepted(path).length >= 3), 60_000);
    await gateway!.kill('SIGKILL');
    const deliveredWhenKilled = receiver.accepted(path).length;
    await lives; // the rest of the stories happen while the gateway is down
    gateway = await startGatewayProcess();

    const expected = referralIds.length * story.length;
    await waitUntil(() => Promise.resolve(receiver.accepted(path).length >= expected), 120_000);
    receiver.delayMs = 0;
    expect(deliveredWhenKilled).toBeLessThan(expected);
    expect(receiver.unverified).toEqual([]);
    for (const referralId of referralIds) expect(receiver.orderOf(path, referralId), referralId).toEqual(storyTypes);
    // None twice under different ids: each event was queued once for the subscription.
    const accepted = receiver.accepted(path);
    expect(accepted).toHaveLength(expected);
    expect(new Set(accepted.map((r) => r.eventId)).size).toBe(expected);
    // The log agrees: every one delivered.
    const log = await waitFor(
      () => deliveries(subscriptionId),
      (found) => found.length === expected && found.every((d) => d.status === 'delivered'),
      30_000,
    );
    expect(log.every((d) => d.lastStatusCode === 200)).toBe(true);
    const receipts = receiver.received.filter((r) => r.path === path).length;
    // At least once: a delivery the receiver took just before the kill may come again (same webhook-id).
    expect(receipts).toBeGreaterThanOrEqual(expected);
    expect((await unsubscribe(subscriptionId)).status).toBe(200);
  }, 300_000);

  it('retries while the system is down, holding the referral’s later events back, then delivers them in order', async () => {
    const { subscriptionId, path } = await subscribe(['sent', 'escalated']);
    receiver.failing.add(path);
    const referralId = await referralsCall.send();
    await referralsCall.escalate(referralId);
    // The first attempts fail (503); the escalation waits behind the sent event.
    const failing = await waitFor(
      async () => (await deliveries(subscriptionId, `&referralId=${referralId}`)).filter((d) => d.eventType === 'sent'),
      (found) => found.length === 1 && found[0]!.attempts >= 3,
      60_000,
    );
    expect(failing[0]).toMatchObject({ status: 'pending', lastStatusCode: 503, lastError: 'http_503' });
    expect(failing[0]!.nextAttemptAt).toBeDefined();
    const waiting = (await deliveries(subscriptionId, `&referralId=${referralId}`)).find(
      (d) => d.eventType === 'escalated',
    );
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0 });
    expect(receiver.received.filter((r) => r.path === path).map((r) => r.type)).not.toContain('referral.escalated');

    receiver.failing.delete(path);
    await waitUntil(() => Promise.resolve(receiver.orderOf(path, referralId).length === 2), 60_000);
    expect(receiver.orderOf(path, referralId)).toEqual(['referral.sent', 'referral.escalated']);
    // The receiver answered before the gateway marked the row: the log follows.
    const log = await waitFor(
      () => deliveries(subscriptionId),
      (found) => found.length === 2 && found.every((d) => d.status === 'delivered'),
      30_000,
    );
    expect(log.find((d) => d.eventType === 'sent')!.attempts).toBeGreaterThanOrEqual(4);
    // The log names what happened, never what a delivery said.
    expect(Object.keys(log[0]!)).not.toContain('payload');
    expect((await unsubscribe(subscriptionId)).status).toBe(200);
  }, 120_000);

  it('redelivers one by hand, under the same webhook-id', async () => {
    const { subscriptionId, path } = await subscribe(['sent']);
    await referralsCall.send();
    const [delivered] = await waitFor(
      () => deliveries(subscriptionId, '&status=delivered'),
      (found) => found.length === 1,
      30_000,
    );
    const times = () =>
      receiver.received.filter((r) => r.path === path && r.webhookId === delivered!.deliveryId).length;
    expect(times()).toBe(1);
    const redelivered = await http.json<{ delivery: DeliveryView }>(
      'POST',
      `/api/webhooks/${subscriptionId}/deliveries/${delivered!.deliveryId}/redeliver`,
      { session: await as('london-supervisor'), body: {} },
    );
    expect(redelivered.status, JSON.stringify(redelivered.body)).toBe(200);
    expect(redelivered.body.delivery.status).toBe('pending');
    await waitUntil(() => Promise.resolve(times() === 2), 30_000);
    const [after] = await waitFor(
      () => deliveries(subscriptionId, '&status=delivered'),
      (found) => found.length === 1,
      30_000,
    );
    expect(after).toMatchObject({ deliveryId: delivered!.deliveryId, attempts: delivered!.attempts + 1 });
    expect((await unsubscribe(subscriptionId)).status).toBe(200);
  });

  it('is registered by the agency’s integration client, which fetches the referral a delivery names with its own token', async () => {
    const client = await integrationClientToken(http, 'london-coalition');
    const bearer = { authorization: `Bearer ${client.accessToken}` };
    const path = `/hooks/${randomUUID()}`;
    const created = await http.json<{ subscription: SubscriptionView & { createdBy: string }; secret: string }>(
      'POST',
      '/api/webhooks',
      { headers: bearer, body: { url: `http://127.0.0.1:${receiver.port}${path}`, eventTypes: ['sent'] } },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.subscription).toMatchObject({ agencyId: 'london-coalition', createdBy: client.clientId });
    receiver.secrets.set(path, created.body.secret);
    // Its own agency's only.
    const elsewhere = await http.json('POST', '/api/webhooks', {
      headers: bearer,
      body: { url: `http://127.0.0.1:${receiver.port}/x`, agencyId: 'pact-ottawa' },
    });
    expect(elsewhere.status).toBe(403);

    const referralId = await referralsCall.send();
    await waitUntil(() => Promise.resolve(receiver.accepted(path).length === 1), 30_000);
    const [delivery] = receiver.accepted(path);
    expect(delivery).toMatchObject({ type: 'referral.sent', referralId });
    // The delivery named it; what it holds comes from a read under consent, audited under the client.
    const fetched = await http.json<{ referral: { id: string; toAgency: string }; packet: { content: string }[] }>(
      'GET',
      `/api/referrals/${delivery!.referralId}`,
      { headers: bearer },
    );
    expect(fetched.status, JSON.stringify(fetched.body)).toBe(200);
    expect(fetched.body.referral).toMatchObject({ id: referralId, toAgency: 'london-coalition' });
    expect(fetched.body.packet.length).toBeGreaterThan(0);
    const log = await waitFor(
      () =>
        http.json<{ deliveries: DeliveryView[] }>(
          'GET',
          `/api/webhooks/${created.body.subscription.subscriptionId}/deliveries`,
          { headers: bearer },
        ),
      (answer) => answer.status === 200 && answer.body.deliveries[0]?.status === 'delivered',
      30_000,
    );
    expect(log.body.deliveries.map((d) => d.status)).toEqual(['delivered']);
    const deleted = await http.json('DELETE', `/api/webhooks/${created.body.subscription.subscriptionId}`, {
      headers: bearer,
    });
    expect(deleted.status).toBe(200);
  });

  it('is managed with `passage webhooks` too', async () => {
    const env = {
      GATEWAY_URL: `http://127.0.0.1:${httpPort}`,
      PASSAGE_ENV: 'development',
      DEMO_PASSWORD: demoPassword,
    };
    const passage = async (...args: string[]): Promise<{ code: number; out: string }> => {
      const lines: string[] = [];
      const code = await run([...args, '--as', 'london-supervisor'], env, (line) => lines.push(line));
      return { code, out: lines.join('\n') };
    };
    const path = `/hooks/${randomUUID()}`;
    const created = await passage('webhooks', 'create', `http://127.0.0.1:${receiver.port}${path}`, '--events', 'sent');
    expect(created.code).toBe(0);
    const secret = /signing secret \(shown this once\): (whsec_\S+)/.exec(created.out)?.[1];
    expect(secret).toBeDefined();
    receiver.secrets.set(path, secret!);
    const listed = JSON.parse((await passage('webhooks', 'list', '--json')).out) as {
      subscriptionId: string;
      url: string;
    }[];
    const mine = listed.find((row) => row.url.endsWith(path));
    expect(mine).toBeDefined();

    const referralId = await referralsCall.send();
    await waitUntil(() => Promise.resolve(receiver.accepted(path).length === 1), 30_000);
    const log = await waitFor(
      async () =>
        JSON.parse((await passage('webhooks', 'deliveries', mine!.subscriptionId, '--json')).out) as {
          deliveryId: string;
          referralId: string;
          status: string;
        }[],
      (rows) => rows[0]?.status === 'delivered',
      30_000,
    );
    expect(log).toEqual([expect.objectContaining({ referralId, status: 'delivered', event: 'sent' })]);
    expect((await passage('webhooks', 'redeliver', mine!.subscriptionId, log[0]!.deliveryId)).code).toBe(0);
    await waitUntil(() => Promise.resolve(receiver.received.filter((r) => r.path === path).length === 2), 30_000);
    const deleted = await passage('webhooks', 'delete', mine!.subscriptionId);
    expect(deleted.code).toBe(0);
    expect(deleted.out).toMatch(/deleted/);
  });

  it('stops delivering once deleted: pending deliveries cancelled, its consumer removed', async () => {
    const { subscriptionId, path } = await subscribe(['sent', 'acknowledged']);
    receiver.failing.add(path);
    const first = await referralsCall.send();
    await waitFor(
      () => deliveries(subscriptionId),
      (found) => found.length === 1 && found[0]!.attempts >= 1,
      30_000,
    );
    const deleted = await unsubscribe(subscriptionId);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body.subscription.deletedAt).toBeDefined();
    expect(deleted.body.cancelled).toBe(1);
    expect(await consumerOf(subscriptionId)).toBeUndefined();
    const [cancelled] = await deliveries(subscriptionId);
    expect(cancelled).toMatchObject({ referralId: first, status: 'cancelled' });

    // Another subscription, made after, gets the next event: the deleted one had time to, and did not.
    receiver.failing.delete(path);
    const tried = receiver.received.filter((r) => r.path === path).length;
    const other = await subscribe(['acknowledged']);
    await referralsCall.acknowledge(first);
    await waitUntil(() => Promise.resolve(receiver.accepted(other.path).length === 1), 30_000);
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(tried);
    expect(await deliveries(subscriptionId)).toHaveLength(1);
    expect((await unsubscribe(other.subscriptionId)).status).toBe(200);
  });

  it('refuses, in production, an endpoint over http or whose host resolves to a loopback or private address', async () => {
    // A second gateway, in this process, with production's rule and a DNS of the test's own
    // (the network's other subscriptions are all deleted by now: it has nothing to deliver).
    const dns = new Map([
      ['cms.agency.example', ['93.184.215.14']],
      ['intranet.agency.example', ['10.20.30.40']],
      ['rebound.agency.example', ['93.184.215.14', '127.0.0.1']],
    ]);
    const strict = await startGateway(
      loadConfig(gatewayConfigSchema, {
        ...n.referralsEnv,
        ...testTls('gateway').env,
        REFERRALS_ADDRESS: n.referralService!.address,
        SERVICE_TOKEN_KEY: n.serviceTokenKey,
        HTTP_PORT: '0',
        DEMO_USERS: 'on',
        DEMO_PASSWORD: demoPassword,
        CONSOLE_DIR: '',
        WEBHOOK_URL_POLICY: 'public-https',
      }),
      createLogger('webhooks-strict', 'silent'),
      {
        webhooks: {
          resolver: {
            addresses: (host) => Promise.resolve(dns.get(host) ?? []),
          },
        },
      },
    );
    try {
      const strictHttp = new Http(strict.url);
      const supervisor = await strictHttp.signIn('london-supervisor');
      const refusal = async (url: string): Promise<string> => {
        const answer = await strictHttp.json<{ violations: { field: string; description: string }[] }>(
          'POST',
          '/api/webhooks',
          { session: supervisor, body: { url } },
        );
        expect(answer.status, url).toBe(400);
        expect(answer.body.violations.map((v) => v.field)).toEqual(['body.url']);
        return answer.body.violations[0]!.description;
      };
      const before = (
        await strictHttp.json<{ subscriptions: unknown[] }>('GET', '/api/webhooks', { session: supervisor })
      ).body.subscriptions.length;
      expect(await refusal('http://cms.agency.example/hooks')).toMatch(/https/);
      expect(await refusal(`https://127.0.0.1:${receiver.port}/hooks`)).toMatch(/loopback/);
      expect(await refusal('https://localhost/hooks')).toMatch(/loopback/);
      expect(await refusal('https://intranet.agency.example/hooks')).toMatch(/private address/);
      expect(await refusal('https://rebound.agency.example/hooks')).toMatch(/loopback/);
      expect(await refusal('https://[fd00:ec2::254]/latest')).toMatch(/metadata/);
      expect(await refusal('https://nowhere.agency.example/hooks')).toMatch(/does not resolve/);
      const after = await strictHttp.json<{ subscriptions: unknown[] }>('GET', '/api/webhooks', {
        session: supervisor,
      });
      expect(after.body.subscriptions).toHaveLength(before);
      // A public https endpoint is taken (and deleted again: nothing listens there).
      const taken = await strictHttp.json<{ subscription: { subscriptionId: string } }>('POST', '/api/webhooks', {
        session: supervisor,
        body: { url: 'https://cms.agency.example/hooks' },
      });
      expect(taken.status, JSON.stringify(taken.body)).toBe(201);
      expect(
        (
          await strictHttp.json('DELETE', `/api/webhooks/${taken.body.subscription.subscriptionId}`, {
            session: supervisor,
          })
        ).status,
      ).toBe(200);
    } finally {
      await strict.shutdown.run();
    }
  });
});
