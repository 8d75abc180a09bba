import { verifierFromEnv } from '@passage/auth';
import { descriptorSet } from '@passage/contracts/descriptor';
import { SubjectCrypto, keyRingFromEnv, keyStoreSchema, openKeyStore } from '@passage/crypto';
import {
  dayMs,
  durableConsumer,
  IdempotentConsumer,
  type Maintenance,
  openServiceRuntime,
  parkedEventsContract,
  parkedEventsService,
  pruneOlderThan,
  shutDownRuntime,
  startMaintenance,
  watchDependencies,
} from '@passage/events';
import {
  ConfigError,
  databasePool,
  grpcTransport,
  openGrpcServer,
  Readiness,
  Shutdown,
  type Logger,
} from '@passage/platform';
import { referralsDatabases } from '../migrations/index.ts';
import { PgSendStorage } from './adapters/db/pg-send.ts';
import { SqlReferralStorage } from './adapters/db/storage.ts';
import { referralSchema } from './adapters/db/referral-repository.ts';
import { packetRetention } from './adapters/db/retention.ts';
import { consentChangeHandler } from './adapters/events/consent-changes.ts';
import { GrpcConsentGateway, GrpcDirectoryGateway } from './adapters/grpc/gateways.ts';
import { referralService, referralContract } from './adapters/grpc/referral-service.ts';
import { ReferralUseCases } from './app/referral-use-cases.ts';
import type { ReferralsConfig } from './config.ts';

export interface RunningReferrals {
  readonly address: string;
  readonly useCases: ReferralUseCases;
  /** Its pruner and parked events (tests run a pruning round at a time they choose). */
  readonly maintenance: Maintenance;
  readonly shutdown: Shutdown;
}

/** `now` is the service's clock: the wall clock, unless a test moves time on. */
export async function startReferrals(
  config: ReferralsConfig,
  log: Logger,
  now: () => Date = () => new Date(),
): Promise<RunningReferrals> {
  let keys;
  try {
    keys = { keyRing: keyRingFromEnv(config), verifier: verifierFromEnv(config) };
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
  const crypto = new SubjectCrypto(keys.keyRing);
  const shutdown = new Shutdown(log);
  // Mutual TLS, or plaintext in development only: a bad certificate stops it here (ADR 26).
  const transport = grpcTransport(config, log);
  // Listening from the start: health NOT_SERVING and calls UNAVAILABLE while it waits for Postgres and NATS.
  const listening = await openGrpcServer(
    { contracts: [referralContract, parkedEventsContract], descriptorSet: descriptorSet(), log, transport },
    config,
  );
  shutdown.add('grpc server', () => listening.shutdown(config.SHUTDOWN_GRACE_MS));
  const runtime = await openServiceRuntime({
    name: 'referrals',
    config,
    databases: referralsDatabases,
    schema: referralSchema,
    relay: config.OUTBOX_RELAY === 'on',
    log,
  });
  const { orm, nats, topology } = runtime;
  // The subjects' data keys: apart from the data, as a login of their own (docs/adr/0023-key-store.md).
  const keyStore = await openKeyStore({
    url: runtime.logins.url(keyStoreSchema('referrals')),
    service: 'referrals',
    env: config.PASSAGE_ENV,
    log,
  });
  const vault = () => keyStore.vault(crypto);

  const directory = new GrpcDirectoryGateway(config.DIRECTORY_ADDRESS, transport.clientCredentials);
  const consent = new GrpcConsentGateway(config.CONSENT_ADDRESS, transport.clientCredentials);
  // The hot path on prepared statements, a pool of its own (docs/adr/0049-send-on-prepared-statements.md).
  const sends = new PgSendStorage(
    databasePool(runtime.databaseUrl, { max: config.SEND_POOL_SIZE, applicationName: 'referrals-send' }, log),
    vault,
    topology,
  );
  const useCases = new ReferralUseCases(new SqlReferralStorage(orm, vault, topology, sends), directory, consent, now);
  const readiness = new Readiness(log);
  const dependencies = watchDependencies({
    service: 'referrals',
    readiness,
    nats: runtime.nats,
    orm: runtime.orm,
    intervalMs: config.DEPENDENCY_CHECK_MS,
    log,
  });
  const consentChanges = new IdempotentConsumer({
    ...durableConsumer(topology, 'referrals-consent-changes'),
    // The service is not ready while its feed does not flow (its consumer deleted, heartbeats missed).
    onHealthChange: (flowing) => readiness.set('consumer referrals-consent-changes', flowing),
    nats,
    orm,
    schema: referralSchema,
    log,
    handle: consentChangeHandler(useCases, vault, topology),
  });
  await consentChanges.start();
  // Pruning of the event tables and expired idempotency keys, the retention schedule of ended
  // referrals' packets; parked events for the CLI (docs/adr/0033-retention.md).
  const maintenance = startMaintenance({
    service: 'referrals',
    runtime,
    schema: referralSchema,
    config,
    handlers: { 'referrals-consent-changes': consentChangeHandler(useCases, vault, topology) },
    tasks: [
      pruneOlderThan({
        name: 'idempotency_keys',
        schema: referralSchema,
        table: 'idempotency_keys',
        column: 'created_at',
        keepMs: config.IDEMPOTENCY_KEY_RETENTION_DAYS * dayMs,
      }),
      packetRetention(orm, vault, config.REFERRAL_PACKET_RETENTION_DAYS * dayMs),
    ],
    now,
    log,
  });

  const server = listening.serve([
    referralService(useCases, keys.verifier, log),
    parkedEventsService(maintenance.parked, keys.verifier, log),
  ]);
  readiness.follow(server);
  shutdown.add('dependency checks', () => dependencies.stop());
  shutdown.add('consumers', () => consentChanges.stop());
  shutdown.add('pruner', () => maintenance.pruner.stop());
  shutdown.add('grpc clients', () => {
    directory.close();
    consent.close();
    return Promise.resolve();
  });
  shutdown.add('send pool', () => sends.close());
  shutdown.add('key store', () => keyStore.close());
  shutDownRuntime(shutdown, runtime);
  return { address: server.address, useCases, maintenance, shutdown };
}
