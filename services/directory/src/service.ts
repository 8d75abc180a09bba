import { verifierFromEnv } from '@passage/auth';
import { descriptorSet } from '@passage/contracts/descriptor';
import { openServiceRuntime, shutDownRuntime, watchDependencies } from '@passage/events';
import { Readiness, Shutdown, grpcTransport, openGrpcServer, type Logger } from '@passage/platform';
import { directoryDatabases } from '../migrations/index.ts';
import { AgencyRecord } from './adapters/db/agency-record.ts';
import { MikroDirectoryStorage, directorySchema } from './adapters/db/storage.ts';
import { directoryService, directoryContract } from './adapters/grpc/directory-service.ts';
import { DirectoryUseCases } from './app/directory.ts';
import type { DirectoryConfig } from './config.ts';
import { ontarioAgencies } from './seed/ontario.ts';

/** Caller tokens are optional here: reads are public, and the admin token still works. */
export interface RunningDirectory {
  readonly address: string;
  readonly useCases: DirectoryUseCases;
  readonly shutdown: Shutdown;
}

/**
 * Wires the directory: database (migrations applied) → NATS (streams ensured) → outbox
 * relay → gRPC server. The returned Shutdown undoes it in the reverse order of need:
 * stop accepting calls and drain, stop the relay, close NATS, close the database.
 */
export async function startDirectory(config: DirectoryConfig, log: Logger): Promise<RunningDirectory> {
  const shutdown = new Shutdown(log);
  // Mutual TLS, or plaintext in development only: a bad certificate stops it here (ADR 26).
  const transport = grpcTransport(config, log);
  // Listening from the start: health NOT_SERVING and calls UNAVAILABLE while it waits for Postgres and NATS.
  const listening = await openGrpcServer(
    { contracts: [directoryContract], descriptorSet: descriptorSet(), log, transport },
    config,
  );
  shutdown.add('grpc server', () => listening.shutdown(config.SHUTDOWN_GRACE_MS));
  const runtime = await openServiceRuntime({
    name: 'directory',
    config,
    databases: directoryDatabases,
    schema: directorySchema,
    entities: [AgencyRecord],
    log,
  });
  const { orm, topology } = runtime;

  const useCases = new DirectoryUseCases(new MikroDirectoryStorage(orm, topology));
  if (config.DIRECTORY_SEED === 'ontario') {
    const seeder = { userId: 'seed', agencyId: '', roles: ['admin'] };
    for (const listing of ontarioAgencies) await useCases.upsertAgency(seeder, listing);
    log.info({ agencies: ontarioAgencies.length }, 'Ontario directory seeded');
  }

  // Not ready while Postgres or NATS does not answer.
  const readiness = new Readiness(log);
  const dependencies = watchDependencies({
    service: 'directory',
    readiness,
    nats: runtime.nats,
    orm: runtime.orm,
    intervalMs: config.DEPENDENCY_CHECK_MS,
    log,
  });
  const server = listening.serve([directoryService(useCases, verifierFromEnv(config), log)]);
  readiness.follow(server);
  shutdown.add('dependency checks', () => dependencies.stop());

  shutDownRuntime(shutdown, runtime);
  return { address: server.address, useCases, shutdown };
}
