import { issuerFromEnv, verifierFromEnv } from '@passage/auth';
import { descriptorSet } from '@passage/contracts/descriptor';
import {
  durableConsumer,
  IdempotentConsumer,
  openServiceRuntime,
  shutDownRuntime,
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
import { escalationDatabases } from '../migrations/index.ts';
import { PgTimerStore } from './adapters/db/timer-store.ts';
import { referralEventHandler } from './adapters/events/referral-events.ts';
import { escalationService, escalationContract } from './adapters/grpc/escalation-service.ts';
import { GrpcConsent, GrpcDirectory, GrpcReferrals, ServiceIdentity } from './adapters/grpc/gateways.ts';
import { EscalationQueries } from './app/escalation-queries.ts';
import { EscalationWorker } from './app/escalation-worker.ts';
import type { EscalationConfig } from './config.ts';

export const escalationSchema = 'escalation';

export interface RunningEscalation {
  readonly address: string;
  readonly shutdown: Shutdown;
}

/** `now` is the clock timers fall due by: the wall clock, unless a test moves time on. */
export async function startEscalation(
  config: EscalationConfig,
  log: Logger,
  now: () => Date = () => new Date(),
): Promise<RunningEscalation> {
  let verifier;
  try {
    verifier = verifierFromEnv(config);
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
  const identity = new ServiceIdentity(issuerFromEnv(config));
  const shutdown = new Shutdown(log);
  // Mutual TLS, or plaintext in development only: a bad certificate stops it here (ADR 26).
  const transport = grpcTransport(config, log);
  // Listening from the start: health NOT_SERVING and calls UNAVAILABLE while it waits for Postgres and NATS.
  const listening = await openGrpcServer(
    { contracts: [escalationContract], descriptorSet: descriptorSet(), log, transport },
    config,
  );
  shutdown.add('grpc server', () => listening.shutdown(config.SHUTDOWN_GRACE_MS));
  const runtime = await openServiceRuntime({
    name: 'escalation',
    config,
    databases: escalationDatabases,
    schema: escalationSchema,
    relay: false,
    log,
  });
  const pool = databasePool(
    runtime.databaseUrl,
    { max: config.ESCALATION_WORKERS + 2, applicationName: 'escalation' },
    log,
  );
  const store = new PgTimerStore(pool);
  const unobserveTimers = store.observe(now);
  const referrals = new GrpcReferrals(config.REFERRALS_ADDRESS, transport.clientCredentials, identity);
  const directory = new GrpcDirectory(config.DIRECTORY_ADDRESS, transport.clientCredentials);
  const consent = new GrpcConsent(config.CONSENT_ADDRESS, transport.clientCredentials, identity);
  const readiness = new Readiness(log);
  const dependencies = watchDependencies({
    service: 'escalation',
    readiness,
    nats: runtime.nats,
    orm: runtime.orm,
    intervalMs: config.DEPENDENCY_CHECK_MS,
    log,
  });
  const events = new IdempotentConsumer({
    ...durableConsumer(runtime.topology, 'escalation-referrals'),
    // The service is not ready while its feed does not flow (its consumer deleted, heartbeats missed).
    onHealthChange: (flowing) => readiness.set('consumer escalation-referrals', flowing),
    nats: runtime.nats,
    orm: runtime.orm,
    schema: escalationSchema,
    log,
    maxAttempts: 3,
    retryDelayMs: 200,
    handle: referralEventHandler,
  });
  await events.start();
  const worker = new EscalationWorker(
    { store, referrals, directory, consent },
    {
      crisisLine: config.ESCALATION_CRISIS_LINE,
      pollMs: config.ESCALATION_POLL_MS,
      concurrency: config.ESCALATION_WORKERS,
      now,
    },
    log,
  );
  worker.start();
  const server = listening.serve([escalationService(new EscalationQueries(store), verifier, log)]);
  readiness.follow(server);
  shutdown.add('dependency checks', () => dependencies.stop());
  shutdown.add('timers and consumer', async () => {
    unobserveTimers();
    await worker.stop();
    await events.stop();
  });
  shutdown.add('grpc clients', () => {
    referrals.close();
    directory.close();
    consent.close();
    return Promise.resolve();
  });
  shutdown.add('timer pool', () => pool.end());
  shutDownRuntime(shutdown, runtime);
  return { address: server.address, shutdown };
}
