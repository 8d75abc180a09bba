import { issuerFromEnv, verifierFromEnv } from '@passage/auth';
import { descriptorSet } from '@passage/contracts/descriptor';
import {
  dayMs,
  durableConsumer,
  IdempotentConsumer,
  type Maintenance,
  openServiceRuntime,
  parkedEventsContract,
  parkedEventsService,
  pruneOlderThan,
  type PruneTask,
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
  type ClientCredentials,
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
export { ServiceIdentity };

export interface RunningEscalation {
  readonly address: string;
  /** Its pruner and parked events (tests run a pruning round at a time they choose). */
  readonly maintenance: Maintenance;
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
    { contracts: [escalationContract, parkedEventsContract], descriptorSet: descriptorSet(), log, transport },
    config,
  );
  shutdown.add('grpc server', () => listening.shutdown(config.SHUTDOWN_GRACE_MS));
  const runtime = await openServiceRuntime({
    name: 'escalation',
    config,
    databases: escalationDatabases,
    schema: escalationSchema,
    // Its outbox carries only the audit events of replays of its parked events.
    log,
  });
  const firing = escalationFiring(config, runtime.databaseUrl, transport.clientCredentials, identity, log, now);
  const { store, worker } = firing;
  const unobserveTimers = store.observe(now);
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
  worker.start();
  // Pruning of the event tables and of timers settled long ago; parked events for the CLI.
  const maintenance = startMaintenance({
    service: 'escalation',
    runtime,
    schema: escalationSchema,
    config,
    handlers: { 'escalation-referrals': referralEventHandler },
    tasks: settledTimerPruning(config.ESCALATION_TIMER_RETENTION_DAYS * dayMs),
    now,
    log,
  });
  const server = listening.serve([
    escalationService(new EscalationQueries(store), verifier, log),
    parkedEventsService(maintenance.parked, verifier, log),
  ]);
  readiness.follow(server);
  shutdown.add('dependency checks', () => dependencies.stop());
  shutdown.add('timers and consumer', async () => {
    unobserveTimers();
    await worker.stop();
    await events.stop();
  });
  shutdown.add('pruner', () => maintenance.pruner.stop());
  shutdown.add('grpc clients and timer pool', () => firing.close());
  shutDownRuntime(shutdown, runtime);
  return { address: server.address, maintenance, shutdown };
}

/**
 * The worker that fires due timers and the ports it fires with, as the service builds them,
 * not started: the service runs its loops; the escalation benchmark's peer job queue runs
 * each job through `fireTimers` (ADR 47).
 */
export function escalationFiring(
  config: EscalationConfig,
  databaseUrl: string,
  clientCredentials: ClientCredentials,
  identity: ServiceIdentity,
  log: Logger,
  now: () => Date = () => new Date(),
): { store: PgTimerStore; worker: EscalationWorker; close(): Promise<void> } {
  const pool = databasePool(databaseUrl, { max: config.ESCALATION_WORKERS + 2, applicationName: 'escalation' }, log);
  const store = new PgTimerStore(pool);
  const referrals = new GrpcReferrals(config.REFERRALS_ADDRESS, clientCredentials, identity);
  const directory = new GrpcDirectory(config.DIRECTORY_ADDRESS, clientCredentials);
  const consent = new GrpcConsent(config.CONSENT_ADDRESS, clientCredentials, identity);
  const worker = new EscalationWorker(
    { store, referrals, directory, consent },
    {
      crisisLine: config.ESCALATION_CRISIS_LINE,
      pollMs: config.ESCALATION_POLL_MS,
      concurrency: config.ESCALATION_WORKERS,
      batchSize: config.ESCALATION_BATCH,
      now,
    },
    log,
  );
  return {
    store,
    worker,
    close: async () => {
      referrals.close();
      directory.close();
      consent.close();
      await pool.end();
    },
  };
}

/**
 * Timers fired or cancelled longer ago than `keepMs`, with the items a fired one left: a
 * cancelled timer by when it was created (it records no settling time), a fired one by when
 * it fired. What a referral's escalation was stays in the audit log and on the referral.
 */
export function settledTimerPruning(keepMs: number): PruneTask[] {
  return [
    {
      name: 'escalation_items',
      async round(client, now, limit) {
        const result = await client.query(
          `delete from "escalation".items where ctid in (
             select i.ctid from "escalation".items i join "escalation".timers t on t.id = i.timer_id
             where t.state = 'fired' and t.fired_at < $1 limit $2
           )`,
          [new Date(now.getTime() - keepMs), limit],
        );
        return result.rowCount ?? 0;
      },
    },
    pruneOlderThan({
      name: 'fired_timers',
      schema: escalationSchema,
      table: 'timers',
      column: 'fired_at',
      keepMs,
      where: `state = 'fired' and not exists (select 1 from "escalation".items i where i.timer_id = timers.id)`,
    }),
    pruneOlderThan({
      name: 'cancelled_timers',
      schema: escalationSchema,
      table: 'timers',
      column: 'created_at',
      keepMs,
      where: `state = 'cancelled' and not exists (select 1 from "escalation".items i where i.timer_id = timers.id)`,
    }),
  ];
}
