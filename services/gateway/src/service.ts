import { issuerFromEnv } from '@passage/auth';
import {
  IdempotentConsumer,
  durableConsumer,
  openServiceRuntime,
  shutDownRuntime,
  watchDependencies,
} from '@passage/events';
import {
  ConfigError,
  Readiness,
  Shutdown,
  databasePool,
  grpcTransport,
  listenForMetrics,
  listenForProbes,
  metrics,
  type Logger,
} from '@passage/platform';
import { gatewayDatabases } from '../migrations/index.ts';
import { PgUserStore } from './adapters/db/user-store.ts';
import { ServiceClients, agencyListed } from './adapters/grpc/clients.ts';
import { LiveFeed } from './adapters/http/live-feed.ts';
import { OidcSignIn } from './adapters/http/oidc.ts';
import { GatewayHealth, recordSignInRefusal } from './adapters/http/observability.ts';
import type { ApiContract } from '@passage/contracts';
import { apiContract } from '@passage/contracts/descriptor';
import { PgPeopleStore } from './adapters/db/people-store.ts';
import { PgAccessAudit } from './adapters/db/access-audit.ts';
import { peopleService } from './adapters/http/people-service.ts';
import { PgIntegrationClientStore } from './adapters/db/integration-client-store.ts';
import { integrationClientService } from './adapters/http/integration-client-service.ts';
import { IntegrationClients } from './app/integration-clients.ts';
import { People } from './app/people.ts';
import { buildServer } from './adapters/http/server.ts';
import { notificationService } from './adapters/http/notification-service.ts';
import { DirectoryDesks } from './adapters/notify/desks.ts';
import { notificationHandler } from './adapters/notify/events.ts';
import { NoMailer, SmtpMailer } from './adapters/notify/smtp.ts';
import { PgNotificationStore } from './adapters/notify/store.ts';
import { MailSender, Notifications } from './app/notifications.ts';
import { seedDemoUsers } from './app/demo-users.ts';
import { Sessions } from './app/sessions.ts';
import { webhookUrlPolicy, type GatewayConfig } from './config.ts';
import { webhookService } from './adapters/http/webhook-service.ts';
import { WebhookConsumers } from './adapters/webhooks/consumers.ts';
import { newWebhookSecret } from './adapters/webhooks/signing.ts';
import { PgWebhookStore } from './adapters/webhooks/store.ts';
import { HttpWebhookTransport, systemResolver } from './adapters/webhooks/transport.ts';
import { WebhookSender, Webhooks, type HostResolver } from './app/webhooks.ts';
import { defaultRetryPolicy } from './domain/webhooks.ts';

export interface RunningGateway {
  readonly url: string;
  /** The bound port of the Prometheus listener (GET /metrics), when METRICS_PORT is set. */
  readonly metricsPort: number | undefined;
  /** The bound port of the plaintext probe listener (/livez, /readyz), when HEALTH_PORT is set. */
  readonly healthPort: number | undefined;
  readonly shutdown: Shutdown;
}

/** `contract`: the HTTP API to serve; the one `pnpm gen` built, unless a test brings its own. */
export async function startGateway(
  config: GatewayConfig,
  log: Logger,
  options: {
    readonly contract?: ApiContract;
    /** The sessions' clock (tests move it past the idle lock). */
    readonly now?: () => Date;
    /** Notification e-mails: the first retry's delay and how often the queue is looked at (tests shorten them). */
    readonly mail?: { readonly retryBaseMs?: number; readonly pollMs?: number };
    /** Webhooks: the endpoints' DNS (tests answer for names of their own). */
    readonly webhooks?: { readonly resolver?: HostResolver };
  } = {},
): Promise<RunningGateway> {
  if (config.DEMO_USERS === 'on' && config.PASSAGE_ENV !== 'development') {
    throw new ConfigError(['DEMO_USERS=on is for development only (PASSAGE_ENV=development)']);
  }
  // Its clients of the five services: mutual TLS, or plaintext in development only (ADR 26).
  const transport = grpcTransport(config, log);
  const issuer = issuerFromEnv(config);
  const shutdown = new Shutdown(log);
  // As every service (ADR 26, ADR 31): with HEALTH_PORT set, a plaintext port for the kubelet's
  // probes, listening before Postgres and NATS answer (/readyz 503 until it serves).
  let ready = (): boolean => false;
  const probes =
    config.HEALTH_PORT === undefined
      ? undefined
      : await listenForProbes(config.HEALTH_HOST ?? config.HTTP_HOST, config.HEALTH_PORT, () => ready(), log);
  if (probes) shutdown.add('health probes', () => probes.close());
  // Prometheus on a port of its own, never on the public HTTP port (ADR 31).
  const scrapes =
    config.METRICS_PORT === undefined
      ? undefined
      : await listenForMetrics(config.METRICS_HOST ?? config.HTTP_HOST, config.METRICS_PORT, log).catch(
          async (error: unknown) => {
            await probes?.close();
            throw error;
          },
        );
  if (scrapes) shutdown.add('metrics listener', () => scrapes.close());
  // Its health from the start, as the gRPC services' (0 while it waits for Postgres and NATS).
  const unobserveServing = metrics().observe(['serving'], (observe) =>
    observe('serving', ready() ? 1 : 0, { service: 'gateway' }),
  );
  shutdown.add('health gauge', () => Promise.resolve(unobserveServing()));
  const runtime = await openServiceRuntime({
    name: 'gateway',
    config,
    databases: gatewayDatabases,
    schema: 'gateway',
    log,
  });
  const pool = databasePool(runtime.databaseUrl, { max: 10, applicationName: 'gateway' }, log);
  const users = new PgUserStore(pool);
  if (config.DEMO_USERS === 'on') await seedDemoUsers(users, config.DEMO_PASSWORD);
  const sessionTtlMs = config.SESSION_HOURS * 3_600_000;
  const clients = new ServiceClients(
    {
      directory: config.DIRECTORY_ADDRESS,
      consent: config.CONSENT_ADDRESS,
      referrals: config.REFERRALS_ADDRESS,
      audit: config.AUDIT_ADDRESS,
      escalation: config.ESCALATION_ADDRESS,
    },
    transport.clientCredentials,
  );
  const feed = new LiveFeed(runtime.nats, runtime.topology, log);
  // Ready while its Postgres and NATS answer and its HTTP server serves; upstreams are reported.
  const readiness = new Readiness(log);
  readiness.set('http', false);
  const dependencies = watchDependencies({
    service: 'gateway',
    readiness,
    nats: runtime.nats,
    orm: runtime.orm,
    intervalMs: config.DEPENDENCY_CHECK_MS,
    log,
  });
  const health = new GatewayHealth({ readiness, upstreams: clients.byService });
  const unobserve = health.observe();
  let oidc;
  if (config.OIDC_ISSUER) {
    const { OIDC_CLIENT_ID: clientId, OIDC_CLIENT_SECRET: clientSecret, OIDC_REDIRECT_URL: redirectUrl } = config;
    if (!clientId || !clientSecret || !redirectUrl) {
      throw new ConfigError(['OIDC_ISSUER needs OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URL']);
    }
    const settings = {
      issuer: config.OIDC_ISSUER,
      clientId,
      clientSecret,
      redirectUrl,
    };
    oidc = { signIn: await OidcSignIn.discover(settings, users), redirectUrl };
  }
  const sessions = new Sessions(
    users,
    issuer,
    sessionTtlMs,
    feed,
    recordSignInRefusal,
    { lockMs: config.IDLE_LOCK_MINUTES * 60_000 },
    options.now,
  );
  const contract = options.contract ?? apiContract();
  // People administration, in this process (ADR 30); its changes go out through the gateway's outbox.
  const people = new People(new PgPeopleStore(runtime.orm, runtime.topology), sessions, users);
  // Integration clients (ADR 45): agencies' own systems, on the same API as a worker of theirs.
  const integrationClients = new IntegrationClients(
    new PgIntegrationClientStore(runtime.orm, runtime.topology),
    issuer,
    new URL('/oauth/token', config.CONSOLE_URL).toString(),
  );
  // Notifications (ADR 40): the referral events that tell people, each applied once; the
  // e-mails they queue, sent apart from the event (SMTP down holds no event back).
  const notificationStore = new PgNotificationStore(runtime.orm);
  const mailSender = new MailSender({
    queue: notificationStore,
    desks: new DirectoryDesks(clients.directory),
    mailer: config.SMTP_URL ? new SmtpMailer(config.SMTP_URL, config.NOTIFY_FROM) : new NoMailer(),
    consoleUrl: config.CONSOLE_URL,
    log,
    ...options.mail,
  });
  const notifyConsumer = new IdempotentConsumer({
    ...durableConsumer(runtime.topology, 'gateway-notifications'),
    nats: runtime.nats,
    orm: runtime.orm,
    schema: 'gateway',
    handle: notificationHandler,
    log,
    afterCommit: () => mailSender.wake(),
  });
  await notifyConsumer.start();
  mailSender.start();
  shutdown.add('notifications', async () => {
    await notifyConsumer.stop();
    await mailSender.stop();
  });
  const notifications = new Notifications(notificationStore, options.now);
  // Webhooks (ADR 46): a durable consumer per subscription queues its deliveries, each in the
  // transaction that marks its event; a sender delivers them in order per referral, signed.
  const webhookPolicy = webhookUrlPolicy(config);
  const webhookResolver = options.webhooks?.resolver ?? systemResolver;
  const webhookStore = new PgWebhookStore(runtime.orm, runtime.topology);
  const webhookSender = new WebhookSender({
    queue: webhookStore,
    transport: new HttpWebhookTransport(config.WEBHOOK_TIMEOUT_SECONDS * 1000),
    resolver: webhookResolver,
    policy: webhookPolicy,
    log,
    timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    retry: { ...defaultRetryPolicy, baseMs: config.WEBHOOK_RETRY_BASE_SECONDS * 1000 },
    onAttempt: (outcome) => metrics().add('webhookAttempts', { outcome }),
  });
  const unobserveWebhooks = webhookStore.observe();
  const webhookConsumers = new WebhookConsumers({
    nats: runtime.nats,
    orm: runtime.orm,
    topology: runtime.topology,
    log,
    queued: () => webhookSender.wake(),
  });
  webhookConsumers.start();
  webhookSender.start();
  shutdown.add('webhooks', async () => {
    unobserveWebhooks();
    await webhookConsumers.stop();
    await webhookSender.stop();
  });
  const webhooks = new Webhooks({
    store: webhookStore,
    resolver: webhookResolver,
    consumers: webhookConsumers,
    agencyExists: (agencyId) => agencyListed(clients.directory, agencyId),
    newSecret: newWebhookSecret,
    policy: webhookPolicy,
    log,
  });
  let serving = false;
  const app = await buildServer({
    sessions,
    clients,
    feed,
    log,
    sessionTtlMs,
    signInRateLimit: config.SIGN_IN_PER_MINUTE,
    oidc,
    trustProxy: config.TRUST_PROXY,
    consoleDir: config.CONSOLE_DIR || undefined,
    consoleSettings: { quickExitUrl: config.QUICK_EXIT_URL, idleLockMinutes: config.IDLE_LOCK_MINUTES },
    contract,
    local: new Map([
      ['passage.identity.v1.PeopleService', peopleService(people, contract)],
      ['passage.identity.v1.NotificationService', notificationService(notifications, contract)],
      ['passage.identity.v1.IntegrationClientService', integrationClientService(integrationClients, contract)],
      ['passage.webhooks.v1.WebhookService', webhookService(webhooks, contract)],
    ]),
    integrationClients,
    tokenRateLimit: config.OAUTH_TOKEN_PER_MINUTE,
    people,
    ready: () => serving,
    health: () => health.report(),
    accessAudit: new PgAccessAudit(runtime.orm, runtime.topology),
  });
  const url = await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  serving = true;
  readiness.set('http', true);
  ready = () => serving && readiness.ready;
  shutdown.add('http server', async () => {
    serving = false;
    readiness.set('http', false);
    unobserve();
    await dependencies.stop();
    await feed.closeAll();
    await app.close();
  });
  shutdown.add('grpc clients', () => {
    clients.close();
    return Promise.resolve();
  });
  shutdown.add('session pool', () => pool.end());
  shutDownRuntime(shutdown, runtime);
  return { url, metricsPort: scrapes?.port, healthPort: probes?.port, shutdown };
}
