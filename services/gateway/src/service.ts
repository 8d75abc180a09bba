import { issuerFromEnv } from '@passage/auth';
import { openServiceRuntime, shutDownRuntime } from '@passage/events';
import { ConfigError, Shutdown, databasePool, grpcTransport, type Logger } from '@passage/platform';
import { gatewayDatabases } from '../migrations/index.ts';
import { PgUserStore } from './adapters/db/user-store.ts';
import { ServiceClients } from './adapters/grpc/clients.ts';
import { LiveFeed } from './adapters/http/live-feed.ts';
import { OidcSignIn } from './adapters/http/oidc.ts';
import type { ApiContract } from '@passage/contracts';
import { apiContract } from '@passage/contracts/descriptor';
import { PgPeopleStore } from './adapters/db/people-store.ts';
import { peopleService } from './adapters/http/people-service.ts';
import { People } from './app/people.ts';
import { buildServer } from './adapters/http/server.ts';
import { seedDemoUsers } from './app/demo-users.ts';
import { Sessions } from './app/sessions.ts';
import type { GatewayConfig } from './config.ts';

export interface RunningGateway {
  readonly url: string;
  readonly shutdown: Shutdown;
}

/** `contract`: the HTTP API to serve; the one `pnpm gen` built, unless a test brings its own. */
export async function startGateway(
  config: GatewayConfig,
  log: Logger,
  options: { readonly contract?: ApiContract } = {},
): Promise<RunningGateway> {
  if (config.DEMO_USERS === 'on' && config.PASSAGE_ENV !== 'development') {
    throw new ConfigError(['DEMO_USERS=on is for development only (PASSAGE_ENV=development)']);
  }
  if (config.HEALTH_PORT !== undefined) {
    throw new ConfigError([
      'HEALTH_PORT: the gateway answers GET /livez and /readyz on HTTP_PORT — probe that port and unset HEALTH_PORT',
    ]);
  }
  // Its clients of the five services: mutual TLS, or plaintext in development only (ADR 26).
  const transport = grpcTransport(config, log);
  const issuer = issuerFromEnv(config);
  const shutdown = new Shutdown(log);
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
  const sessions = new Sessions(users, issuer, sessionTtlMs, feed);
  const contract = options.contract ?? apiContract();
  // People administration, in this process (ADR 30); its changes go out through the gateway's outbox.
  const people = new People(new PgPeopleStore(runtime.orm, runtime.topology), sessions, users);
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
    contract,
    local: new Map([['passage.identity.v1.PeopleService', peopleService(people, contract)]]),
    people,
    ready: () => serving,
  });
  const url = await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  serving = true;
  shutdown.add('http server', async () => {
    serving = false;
    await feed.closeAll();
    await app.close();
  });
  shutdown.add('grpc clients', () => {
    clients.close();
    return Promise.resolve();
  });
  shutdown.add('session pool', () => pool.end());
  shutDownRuntime(shutdown, runtime);
  return { url, shutdown };
}
