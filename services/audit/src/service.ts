import { checkpointSigner, scanEntries, storedCheckpointNotes } from '@passage/audit-log';
import { verifierFromEnv } from '@passage/auth';
import { descriptorSet } from '@passage/contracts/descriptor';
import { openServiceRuntime, serviceAccess, shutDownRuntime, watchDependencies } from '@passage/events';
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
import { auditDatabases } from '../migrations/index.ts';
import { observeAuditLog } from './adapters/audit-metrics.ts';
import { PgLogStore } from './adapters/db/log-store.ts';
import { PgReportStore } from './adapters/db/report-store.ts';
import { LogConsumer } from './adapters/events/log-consumer.ts';
import { auditService, auditContract } from './adapters/grpc/audit-service.ts';
import { AuditQueries } from './app/audit-queries.ts';
import { Checkpointer } from './app/checkpointer.ts';
import { Ingest } from './app/ingest.ts';
import type { AuditConfig } from './config.ts';

export const auditSchema = 'audit';

export interface RunningAudit {
  readonly address: string;
  readonly verifierKey: string;
  readonly shutdown: Shutdown;
}

export async function startAudit(
  config: AuditConfig,
  log: Logger,
  hooks: { onBatch?: (appended: number, lagsMs: readonly number[]) => void } = {},
): Promise<RunningAudit> {
  let verifier;
  try {
    verifier = verifierFromEnv(config);
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
  const signer = checkpointSigner(config);
  const shutdown = new Shutdown(log);
  // Mutual TLS, or plaintext in development only: a bad certificate stops it here (ADR 26).
  const transport = grpcTransport(config, log);
  // Listening from the start: health NOT_SERVING and calls UNAVAILABLE while it waits for Postgres and NATS.
  const listening = await openGrpcServer(
    { contracts: [auditContract], descriptorSet: descriptorSet(), log, transport },
    config,
  );
  shutdown.add('grpc server', () => listening.shutdown(config.SHUTDOWN_GRACE_MS));
  // The audit service publishes nothing: no outbox to relay.
  const runtime = await openServiceRuntime({
    name: 'audit',
    config,
    databases: auditDatabases,
    schema: auditSchema,
    relay: false,
    log,
  });
  const pool = databasePool(runtime.databaseUrl, { max: 8, applicationName: 'audit' }, log);
  const logStore = new PgLogStore(pool);
  const checkpointer = new Checkpointer(logStore, signer, config.AUDIT_ORIGIN, {
    everyEntries: config.AUDIT_CHECKPOINT_EVERY,
    everyMs: config.AUDIT_CHECKPOINT_SECONDS * 1000,
  });
  const ingest = new Ingest(logStore, checkpointer);
  const unobserve = observeAuditLog({
    pool,
    logStore,
    nats: runtime.nats,
    streams: serviceAccess.audit.ensures.map((area) => runtime.topology.stream(area).name),
    checkpointIntervalSeconds: config.AUDIT_CHECKPOINT_SECONDS,
  });
  const readiness = new Readiness(log);
  const dependencies = watchDependencies({
    service: 'audit',
    readiness,
    nats: runtime.nats,
    orm: runtime.orm,
    intervalMs: config.DEPENDENCY_CHECK_MS,
    log,
  });
  const consumer = new LogConsumer({
    nats: runtime.nats,
    topology: runtime.topology,
    ingest,
    areas: serviceAccess.audit.ensures,
    batchMax: config.AUDIT_BATCH_MAX,
    checkEveryMs: config.AUDIT_STREAM_CHECK_SECONDS * 1000,
    log,
    // A stream stopped at a gap: the log is not whole, and health says so until it is acknowledged.
    onStopped: (gaps) => readiness.set('audit log whole (no stream stopped at a gap)', gaps.length === 0),
    ...(hooks.onBatch ? { onBatch: hooks.onBatch } : {}),
  });
  await consumer.start();
  const timer = setInterval(
    // A tick that signs nothing makes no span; a checkpoint signed does (ADR 32).
    () =>
      void untraced(() => ingest.tick()).catch((error: unknown) =>
        log.error({ err: error }, 'checkpoint failed; retrying'),
      ),
    Math.max(100, (config.AUDIT_CHECKPOINT_SECONDS * 1000) / 2),
  );
  const queries = new AuditQueries(
    logStore,
    new PgReportStore(pool),
    { entries: () => scanEntries(pool), checkpointNotes: () => storedCheckpointNotes(pool) },
    checkpointer,
    config.AUDIT_ORIGIN,
    consumer,
  );
  const server = listening.serve([auditService(queries, verifier, log)]);
  readiness.follow(server);
  shutdown.add('log consumer', async () => {
    unobserve();
    clearInterval(timer);
    await consumer.stop();
  });
  // After the consumer: the log no longer grows, so the last checkpoint covers all of it and a
  // clean stop leaves no unsigned tail (docs/adr/0020-audit-log-whole-or-says-not.md).
  shutdown.add('final checkpoint', async () => {
    const size = await ingest.seal();
    if (size !== undefined) log.info({ treeSize: size }, 'signed the final checkpoint');
  });
  shutdown.add('dependency checks', () => dependencies.stop());
  shutdown.add('log pool', () => pool.end());
  shutDownRuntime(shutdown, runtime);
  return { address: server.address, verifierKey: signer.verifierKey, shutdown };
}
