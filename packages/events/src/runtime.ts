import type { NatsConnection } from '@nats-io/nats-core';
import {
  checkServiceLogin,
  isWorthWaitingFor,
  openDatabase,
  serviceLogins,
  untilAvailable,
  type BaseConfig,
  type DatabaseOptions,
  type Logger,
  type MikroORM,
  type ServiceDatabases,
  type ServiceLogins,
  type Shutdown,
} from '@passage/platform';
import { isServiceName, serviceAccess } from './access.ts';
import { confirmNatsAccess, connectNats, natsConnectionOptions, type NatsSettings } from './connect.ts';
import { observeOutbox } from './dependency-health.ts';
import { OutboxRelay } from './relay.ts';
import { ensureStreams } from './streams.ts';
import { Topology, type Area } from './topology.ts';

export interface ServiceRuntime {
  /** The service's runtime login to its schema (see serviceLogins). */
  readonly databaseUrl: string;
  /** The logins of each of the service's schemas (its key store's, say). */
  readonly logins: ServiceLogins;
  readonly orm: MikroORM;
  readonly nats: NatsConnection;
  readonly topology: Topology;
  readonly relay: OutboxRelay | undefined;
  /** Removes the outbox gauges (passage_outbox_*) registered for a relayed schema. */
  readonly unobserve: () => void;
}

export interface RuntimeOptions {
  readonly name: string;
  readonly config: Pick<BaseConfig, 'DATABASE_URL' | 'NATS_NAMESPACE'> &
    NatsSettings & {
      readonly PASSAGE_STREAM_REPLICAS?: number;
      readonly PASSAGE_ENV?: string | undefined;
      readonly KEYSTORE_DATABASE_URL?: string | undefined;
    };
  /** The service's schemas, migrations and grants: what its migration job provisions. */
  readonly databases: ServiceDatabases;
  /** Which of them the ORM opens. */
  readonly schema: string;
  readonly entities?: DatabaseOptions['entities'];
  /**
   * The streams the service publishes to or consumes from; created or updated at start. A
   * service's are those declared in access.ts (serviceAccess[name].ensures), the default.
   */
  readonly streams?: readonly Area[];
  /** False only where another process relays this schema's outbox. */
  readonly relay?: boolean;
  readonly log: Logger;
}

/**
 * What every service stands on, in the order it needs it: its database login (its runtime
 * role, its schema at this build's migrations), NATS with its streams, and the relay of its
 * outbox. A service started while Postgres or NATS is down, or before the migration job has
 * run, waits for them with backoff (a log line per try, health NOT_SERVING) instead of
 * exiting; a login that could do more than its role, or bad configuration, ends the start at
 * once (docs/adr/0028-database-login-roles.md).
 */
export async function openServiceRuntime(options: RuntimeOptions): Promise<ServiceRuntime> {
  const { config, schema, log } = options;
  // Bad NATS settings stop the start before anything is waited for.
  natsConnectionOptions(config, options.name);
  const streams = options.streams ?? (isServiceName(options.name) ? serviceAccess[options.name].ensures : undefined);
  if (!streams) throw new Error(`openServiceRuntime: no streams declared for ${options.name}`);
  const plan = options.databases.schemas.find((p) => p.schema === schema);
  if (!plan) throw new Error(`schema ${schema} is not one of ${options.databases.service}'s`);
  const { logins, databaseUrl, orm } = await untilAvailable(
    'Postgres and the migration job',
    async () => {
      const found = await serviceLogins({
        databases: options.databases,
        urls: { data: config.DATABASE_URL, keys: config.KEYSTORE_DATABASE_URL },
        env: config.PASSAGE_ENV,
        log,
      });
      const url = found.url(schema);
      await checkServiceLogin(url, plan, 'DATABASE_URL');
      const opened = await openDatabase({
        url,
        schema,
        entities: options.entities ?? [],
        migrations: plan.migrations,
      });
      return { logins: found, databaseUrl: url, orm: opened };
    },
    log,
    { retryable: isWorthWaitingFor },
  );
  // Waits for a first connection however long NATS takes (a refusal ends the start), then
  // never stops reconnecting.
  const nats = await connectNats(config, options.name, log).catch(async (error: unknown) => {
    await orm.close(true).catch(() => undefined);
    throw error;
  });
  const topology = new Topology(config.NATS_NAMESPACE);
  try {
    await untilAvailable(
      'JetStream',
      () =>
        ensureStreams(
          nats,
          streams.map((area) => topology.stream(area)),
          { replicas: config.PASSAGE_STREAM_REPLICAS, warn: (message) => log.warn(message) },
        ),
      log,
      { retryable: isJetStreamUnavailable },
    );
    // A permission the service's NATS user lacks ends the start with one line naming it.
    await confirmNatsAccess(nats);
  } catch (error) {
    // A refused request fails with NATS's words; the refusal says which user and setting.
    const refusal = await confirmNatsAccess(nats).then(
      () => error,
      (refused: unknown) => refused,
    );
    await nats.close().catch(() => undefined);
    await orm.close(true).catch(() => undefined);
    throw refusal;
  }
  const relay = options.relay === false ? undefined : new OutboxRelay({ databaseUrl, schema, nats, log });
  if (relay) await untilAvailable('Postgres', () => relay.start(), log);
  const unobserve = relay ? observeOutbox(orm, schema) : () => undefined;
  return { databaseUrl, logins, orm, nats, topology, relay, unobserve };
}

/** JetStream not answering yet (a NATS server restarting, a cluster electing its leader). */
function isJetStreamUnavailable(error: unknown): boolean {
  const text = `${(error as { name?: string }).name ?? ''} ${(error as { message?: string }).message ?? ''}`;
  return /timeout|503|no responders|jetstream not enabled|temporarily unavailable|disconnect|closed/i.test(text);
}

/**
 * The runtime's shutdown steps, added after the service's own (server, consumers): stop
 * relaying, drain NATS, close the database.
 */
export function shutDownRuntime(shutdown: Shutdown, runtime: ServiceRuntime): void {
  shutdown.add('outbox relay', async () => {
    runtime.unobserve();
    await runtime.relay?.stop();
  });
  shutdown.add('nats', () => runtime.nats.drain());
  shutdown.add('database', () => runtime.orm.close(true));
}
