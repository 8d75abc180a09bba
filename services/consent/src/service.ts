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
  untraced,
  type Logger,
} from '@passage/platform';
import { consentDatabases } from '../migrations/index.ts';
import { SqlConsentStorage } from './adapters/db/storage.ts';
import { PgEvaluationReader } from './adapters/db/evaluation-reader.ts';
import { consentSchema } from './adapters/db/consent-repository.ts';
import { projectAgency } from './adapters/events/agency-projection.ts';
import { consentService, consentContract } from './adapters/grpc/consent-service.ts';
import { developmentReceiptKey, receiptSigner } from './adapters/receipt-signer.ts';
import { ConsentUseCases } from './app/consent-use-cases.ts';
import type { ConsentConfig } from './config.ts';

export interface RunningConsent {
  readonly address: string;
  readonly useCases: ConsentUseCases;
  /** Its pruner and parked events (tests run a pruning round at a time they choose). */
  readonly maintenance: Maintenance;
  readonly shutdown: Shutdown;
}

/** Keys first: a service that would encrypt or sign with a known key refuses to start. */
function keysFrom(config: ConsentConfig) {
  try {
    const dev = config.PASSAGE_ENV === 'development';
    if (!config.RECEIPT_SIGNING_KEY && !dev) {
      throw new Error('RECEIPT_SIGNING_KEY is required outside development ("<key id>:<base64 32-byte seed>")');
    }
    return {
      keyRing: keyRingFromEnv(config),
      verifier: verifierFromEnv(config),
      signer: receiptSigner(config.RECEIPT_SIGNING_KEY ?? developmentReceiptKey),
    };
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
}

/** `now` is the service's clock: the wall clock, unless a test moves time on. */
export async function startConsent(
  config: ConsentConfig,
  log: Logger,
  now: () => Date = () => new Date(),
): Promise<RunningConsent> {
  const { keyRing, verifier, signer } = keysFrom(config);
  const shutdown = new Shutdown(log);
  // Mutual TLS, or plaintext in development only: a bad certificate stops it here (ADR 26).
  const transport = grpcTransport(config, log);
  // Listening from the start: health NOT_SERVING and calls UNAVAILABLE while it waits for Postgres and NATS.
  const listening = await openGrpcServer(
    { contracts: [consentContract, parkedEventsContract], descriptorSet: descriptorSet(), log, transport },
    config,
  );
  shutdown.add('grpc server', () => listening.shutdown(config.SHUTDOWN_GRACE_MS));
  const runtime = await openServiceRuntime({
    name: 'consent',
    config,
    databases: consentDatabases,
    schema: consentSchema,
    log,
  });
  const { orm, nats, topology, databaseUrl } = runtime;
  // The subjects' data keys: apart from the data, as a login of their own (docs/adr/0023-key-store.md).
  const keyStore = await openKeyStore({
    url: runtime.logins.url(keyStoreSchema('consent')),
    service: 'consent',
    env: config.PASSAGE_ENV,
    log,
  });
  const crypto = new SubjectCrypto(keyRing);
  const readiness = new Readiness(log);
  // Not ready while Postgres or NATS does not answer, as while its feed does not flow.
  const dependencies = watchDependencies({
    service: 'consent',
    readiness,
    nats: runtime.nats,
    orm: runtime.orm,
    intervalMs: config.DEPENDENCY_CHECK_MS,
    log,
  });
  const agencies = new IdempotentConsumer({
    ...durableConsumer(topology, 'consent-agencies'),
    // The service is not ready while its feed does not flow (its consumer deleted, heartbeats missed).
    onHealthChange: (flowing) => readiness.set('consumer consent-agencies', flowing),
    nats,
    orm,
    schema: consentSchema,
    log,
    handle: projectAgency,
  });
  await agencies.start();

  const evaluation = new PgEvaluationReader(
    databasePool(databaseUrl, { max: 4, applicationName: 'consent-evaluate' }, log),
  );
  const useCases = new ConsentUseCases(
    new SqlConsentStorage(orm, () => keyStore.vault(crypto), topology, evaluation),
    signer,
    now,
  );
  const sweeper = setInterval(() => {
    untraced(() => useCases.sweepExpired()).catch((error: unknown) => log.error({ err: error }, 'expiry sweep failed'));
  }, config.EXPIRY_SWEEP_MS);

  // Pruning of the event tables and of expired idempotency keys; parked events for the CLI.
  const maintenance = startMaintenance({
    service: 'consent',
    runtime,
    schema: consentSchema,
    config,
    handlers: { 'consent-agencies': projectAgency },
    tasks: [
      pruneOlderThan({
        name: 'idempotency_keys',
        schema: consentSchema,
        table: 'idempotency_keys',
        column: 'created_at',
        keepMs: config.IDEMPOTENCY_KEY_RETENTION_DAYS * dayMs,
      }),
    ],
    now,
    log,
  });

  const server = listening.serve([
    consentService(useCases, verifier, log),
    parkedEventsService(maintenance.parked, verifier, log),
  ]);
  readiness.follow(server);

  shutdown.add('dependency checks', () => dependencies.stop());
  shutdown.add('expiry sweeper', () => Promise.resolve(clearInterval(sweeper)));
  shutdown.add('consumers', () => agencies.stop());
  shutdown.add('pruner', () => maintenance.pruner.stop());
  shutdown.add('evaluation pool', () => evaluation.close());
  shutdown.add('key store', () => keyStore.close());
  shutDownRuntime(shutdown, runtime);
  return { address: server.address, useCases, maintenance, shutdown };
}
