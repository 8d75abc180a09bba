import { randomBytes, randomUUID } from 'node:crypto';
import { TokenIssuer, demoUsers, type Caller } from '@passage/auth';
import { consentConfigSchema } from '@passage/consent/config';
import { consentDatabases } from '@passage/consent/migrations';
import { startConsent, type RunningConsent } from '@passage/consent/service';
import { consent, referrals } from '@passage/contracts';
import { newKekSetting } from '@passage/crypto';
import { directoryConfigSchema } from '@passage/directory/config';
import { directoryDatabases } from '@passage/directory/migrations';
import { ontarioAgencies } from '@passage/directory/seed';
import { startDirectory, type RunningDirectory } from '@passage/directory/service';
import {
  bearerMetadata,
  callUnary,
  createLogger,
  loadConfig,
  type ClientCredentials,
  type ServiceDatabases,
} from '@passage/platform';
import { migratedTemplate, testTls } from '@passage/platform/testing';
import { createTestDatabase, createTestNats, waitUntil, type TestDatabase, type TestNats } from '@passage/testing';
import pg from 'pg';
import { referralsDatabases } from '../migrations/index.ts';
import { referralsConfigSchema } from '../src/config.ts';
import { startReferrals, type RunningReferrals } from '../src/service.ts';

export interface Network {
  readonly db: TestDatabase;
  readonly nats: TestNats;
  readonly directory: RunningDirectory;
  readonly consentService: RunningConsent;
  readonly referralService: RunningReferrals | undefined;
  readonly consent: consent.ConsentServiceClient;
  readonly referrals: referrals.ReferralServiceClient | undefined;
  /** Environment for a referrals process of the test's own (fault tests), its certificate included. */
  readonly referralsEnv: Record<string, string>;
  /** A test client's mutual-TLS credentials (every service here speaks only mutual TLS). */
  readonly credentials: ClientCredentials;
  /** The test's token key as SERVICE_TOKEN_KEY: another service signing its own caller tokens. */
  readonly serviceTokenKey: string;
  readonly sql: pg.Client;
  as(user: keyof typeof demoUsers | Caller): ReturnType<typeof bearerMetadata>;
  stop(): Promise<void>;
}

/**
 * The seeded directory, consent and referrals services, all real, in one database (a
 * schema each) and one NATS namespace, with keys and certificates of the test's own: as in
 * production, they call each other over mutual TLS.
 */
export async function startNetwork(
  label: string,
  options: {
    referrals?: boolean;
    /** The referrals service's clock. */
    now?: () => Date;
    /** Other services the caller starts on this database (the gateway lab's): migrated in its template too. */
    alsoMigrated?: readonly ServiceDatabases[];
  } = {},
): Promise<Network> {
  // Every schema already migrated (a copy of a template database): the jobs at start find nothing to do.
  const db = await createTestDatabase(label, {
    template: migratedTemplate([
      directoryDatabases,
      consentDatabases,
      referralsDatabases,
      ...(options.alsoMigrated ?? []),
    ]),
  });
  const nats = await createTestNats(label);
  const issuerSeed = randomBytes(32);
  const issuer = new TokenIssuer('test', issuerSeed);
  // Development: the services provision their own schemas with this superuser URL and then log in as their
  // runtime roles (docs/adr/0028-database-login-roles.md); production would also need TLS to Postgres.
  // NATS is the shared plaintext server, which only development allows; gRPC is still mutual TLS (its settings are given).
  const common = {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    NATS_NAMESPACE: nats.namespace,
    GRPC_PORT: '0',
    PASSAGE_ENV: 'development',
  };
  const keys = { PASSAGE_KEK: newKekSetting('test-kek'), AUTH_PUBLIC_KEYS: issuer.publicKeySetting };
  const log = createLogger(`${label}-test`, process.env['LOG_LEVEL'] ?? 'silent');
  const directory = await startDirectory(
    loadConfig(directoryConfigSchema, {
      ...common,
      ...testTls('directory').env,
      DIRECTORY_SEED: 'ontario',
      AUTH_PUBLIC_KEYS: keys.AUTH_PUBLIC_KEYS,
    }),
    log,
  );
  const consentService = await startConsent(
    loadConfig(consentConfigSchema, {
      ...common,
      ...keys,
      ...testTls('consent').env,
      RECEIPT_SIGNING_KEY: `r:${randomBytes(32).toString('base64')}`,
    }),
    log,
  );
  const referralsEnv = {
    ...common,
    ...keys,
    ...testTls('referrals').env,
    DIRECTORY_ADDRESS: directory.address,
    CONSENT_ADDRESS: consentService.address,
  };
  const referralService =
    options.referrals === false
      ? undefined
      : await startReferrals(loadConfig(referralsConfigSchema, referralsEnv), log, options.now);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  // Consent decides by agency kind, which it learns from the directory's events.
  await waitUntil(async () => {
    const { rows } = await sql.query<{ n: number }>('select count(*)::int as n from consent.agencies');
    return rows[0]!.n === ontarioAgencies.length;
  });
  const credentials = testTls().clientCredentials;
  const consentClient = new consent.ConsentServiceClient(consentService.address, credentials);
  const referralClient = referralService
    ? new referrals.ReferralServiceClient(referralService.address, credentials)
    : undefined;
  return {
    db,
    nats,
    directory,
    consentService,
    referralService,
    consent: consentClient,
    referrals: referralClient,
    referralsEnv,
    credentials,
    serviceTokenKey: `test:${issuerSeed.toString('base64')}`,
    sql,
    as: (user) => bearerMetadata(issuer.issue(typeof user === 'string' ? demoUsers[user]! : user)),
    async stop() {
      consentClient.close();
      referralClient?.close();
      await sql.end();
      await referralService?.shutdown.run();
      await consentService.shutdown.run(); // a no-op when a test already stopped it
      await directory.shutdown.run();
      await nats.cleanup();
      await db.drop();
    },
  };
}

export { waitUntil } from '@passage/testing';
// A Send's own statements, for the send benchmark's ceiling (test/bench/referrals.bench.ts).
export { beginAndLock, findIdempotencyKey, recordSend, recordSendValues } from '../src/adapters/db/send-statements.ts';

export interface ScopeSpec {
  readonly recipients: readonly string[];
  readonly categories: readonly string[];
  readonly doNotContact?: boolean;
}

/** A referral-purpose scope, as a consent Grant takes it. */
export function referralScope(spec: ScopeSpec): consent.Scope {
  return {
    id: '',
    recipientAgencyIds: [...spec.recipients],
    recipientKinds: [],
    purposes: ['referral'],
    categories: [...spec.categories],
    doNotContact: spec.doNotContact ?? false,
    revokedAt: undefined,
  };
}

/** Records a person's consent for a new subject through the real consent service. */
export function grantConsent(n: Network, user: keyof typeof demoUsers, scopes: readonly consent.Scope[]) {
  return callUnary(
    n.consent.grant.bind(n.consent),
    {
      idempotencyKey: randomUUID(),
      subjectRef: '',
      method: consent.CaptureMethod.CAPTURE_METHOD_VERBAL,
      interpreterLanguage: '',
      language: 'en',
      expiresAt: new Date(Date.now() + 30 * 86_400_000),
      scopes: [...scopes],
      receiptName: '',
      notes: '',
    },
    n.as(user),
  );
}
