import { verifierFromEnv } from '@passage/auth';
import { descriptorSet } from '@passage/contracts/descriptor';
import { SubjectCrypto, keyRingFromEnv } from '@passage/crypto';
import { IdempotentConsumer, OutboxRelay, Topology, connectNats, ensureStreams } from '@passage/events';
import {
  ConfigError,
  Shutdown,
  openDatabase,
  serviceDatabaseUrl,
  startGrpcServer,
  type Logger,
} from '@passage/platform';
import { referralMigrations } from '../migrations/index.ts';
import { SqlReferralStorage } from './adapters/db/storage.ts';
import { referralSchema } from './adapters/db/referral-repository.ts';
import { consentChangeHandler } from './adapters/events/consent-changes.ts';
import { GrpcConsentGateway, GrpcDirectoryGateway } from './adapters/grpc/gateways.ts';
import { referralService } from './adapters/grpc/referral-service.ts';
import { ReferralUseCases } from './app/referral-use-cases.ts';
import type { ReferralsConfig } from './config.ts';

export interface RunningReferrals {
  readonly address: string;
  readonly useCases: ReferralUseCases;
  readonly shutdown: Shutdown;
}

export async function startReferrals(config: ReferralsConfig, log: Logger): Promise<RunningReferrals> {
  let keys;
  try {
    keys = { keyRing: keyRingFromEnv(config), verifier: verifierFromEnv(config) };
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
  const crypto = new SubjectCrypto(keys.keyRing);
  const shutdown = new Shutdown(log);
  // The referrals service's own role: its schema and nothing else.
  const databaseUrl = await serviceDatabaseUrl(config.DATABASE_URL, referralSchema, log);
  const orm = await openDatabase({
    url: databaseUrl,
    schema: referralSchema,
    entities: [],
    migrations: referralMigrations,
  });
  const nats = await connectNats(config.NATS_URL, 'referrals');
  const topology = new Topology(config.NATS_NAMESPACE);
  await ensureStreams(nats, [topology.stream('referral'), topology.stream('audit'), topology.stream('consent')]);

  const relay =
    config.OUTBOX_RELAY === 'on' ? new OutboxRelay({ databaseUrl, schema: referralSchema, nats, log }) : undefined;
  await relay?.start();

  const directory = new GrpcDirectoryGateway(config.DIRECTORY_ADDRESS);
  const consent = new GrpcConsentGateway(config.CONSENT_ADDRESS);
  const useCases = new ReferralUseCases(new SqlReferralStorage(orm, crypto, topology), directory, consent);
  const consentChanges = new IdempotentConsumer({
    name: 'referrals-consent-changes',
    stream: topology.stream('consent').name,
    filterSubject: topology.everything('consent'),
    nats,
    orm,
    schema: referralSchema,
    log,
    handle: consentChangeHandler(useCases, crypto, topology),
  });
  await consentChanges.start();

  const server = await startGrpcServer(
    { services: [referralService(useCases, keys.verifier, log)], descriptorSet: descriptorSet(), log },
    config.GRPC_HOST,
    config.GRPC_PORT,
  );
  shutdown.add('grpc server', () => server.shutdown(config.SHUTDOWN_GRACE_MS));
  shutdown.add('consumers', () => consentChanges.stop());
  shutdown.add('outbox relay', async () => relay?.stop());
  shutdown.add('grpc clients', () => {
    directory.close();
    consent.close();
    return Promise.resolve();
  });
  shutdown.add('nats', () => nats.drain());
  shutdown.add('database', () => orm.close(true));
  return { address: server.address, useCases, shutdown };
}
