import { randomBytes } from 'node:crypto';
import { TokenIssuer, demoUsers, type Caller } from '@passage/auth';
import { consent as pb } from '@passage/contracts';
import { newKekSetting } from '@passage/crypto';
import { directoryConfigSchema } from '@passage/directory/config';
import { directoryDatabases } from '@passage/directory/migrations';
import { startDirectory, type RunningDirectory } from '@passage/directory/service';
import { bearerMetadata, createLogger, loadConfig } from '@passage/platform';
import { migratedTemplate, testTls } from '@passage/platform/testing';
import { createTestDatabase, createTestNats, type TestDatabase, type TestNats } from '@passage/testing';
import { consentDatabases } from '../migrations/index.ts';
import { consentConfigSchema } from '../src/config.ts';
import { startConsent, type RunningConsent } from '../src/service.ts';

export interface ConsentHarness {
  readonly db: TestDatabase;
  readonly nats: TestNats;
  readonly directory: RunningDirectory;
  readonly consent: RunningConsent;
  readonly client: pb.ConsentServiceClient;
  readonly kek: string;
  /** The consent service's clock: the wall clock moved on by what `advanceClock` added. */
  advanceClock(ms: number): void;
  /** Call metadata for a seeded demo user, with a token signed by this harness's issuer. */
  as(user: keyof typeof demoUsers | Caller): ReturnType<typeof bearerMetadata>;
  stop(): Promise<void>;
}

/**
 * The consent service and the seeded directory, both real, in one database (a schema
 * each) and one NATS namespace, with keys and certificates of the test's own: as in
 * production, gRPC over mutual TLS.
 */
export async function startConsentHarness(label: string, env: Record<string, string> = {}): Promise<ConsentHarness> {
  // Both schemas already migrated (a copy of a template database): the jobs at start find nothing to do.
  const db = await createTestDatabase(label, { template: migratedTemplate([directoryDatabases, consentDatabases]) });
  const nats = await createTestNats(label);
  const issuer = new TokenIssuer('test', randomBytes(32));
  const kek = newKekSetting('test-kek');
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
  const log = createLogger(`${label}-test`, process.env['LOG_LEVEL'] ?? 'silent');
  let clockOffsetMs = 0;
  const directory = await startDirectory(
    loadConfig(directoryConfigSchema, {
      ...common,
      ...testTls('directory').env,
      DIRECTORY_SEED: 'ontario',
      AUTH_PUBLIC_KEYS: issuer.publicKeySetting,
    }),
    log,
  );
  const consent = await startConsent(
    loadConfig(consentConfigSchema, {
      ...common,
      ...testTls('consent').env,
      PASSAGE_KEK: kek,
      AUTH_PUBLIC_KEYS: issuer.publicKeySetting,
      RECEIPT_SIGNING_KEY: `test-receipts:${randomBytes(32).toString('base64')}`,
      ...env,
    }),
    log,
    () => new Date(Date.now() + clockOffsetMs),
  );
  const client = new pb.ConsentServiceClient(consent.address, testTls().clientCredentials);
  return {
    db,
    nats,
    directory,
    consent,
    client,
    kek,
    advanceClock: (ms) => {
      clockOffsetMs += ms;
    },
    as: (user) => bearerMetadata(issuer.issue(typeof user === 'string' ? demoUsers[user]! : user)),
    async stop() {
      client.close();
      await consent.shutdown.run();
      await directory.shutdown.run();
      await nats.cleanup();
      await db.drop();
    },
  };
}

export { waitUntil } from '@passage/testing';
