import type { NatsConnection } from '@nats-io/nats-core';
import type { MigrationObject } from '@mikro-orm/core';
import {
  openDatabase,
  serviceDatabaseUrl,
  untilAvailable,
  type BaseConfig,
  type DatabaseOptions,
  type Logger,
  type MikroORM,
  type Shutdown,
} from '@passage/platform';
import { isServiceName, serviceAccess } from './access.ts';
import { confirmNatsAccess, connectNats, natsConnectionOptions, type NatsSettings } from './connect.ts';
import { OutboxRelay } from './relay.ts';
import { ensureStreams } from './streams.ts';
import { Topology, type Area } from './topology.ts';

export interface ServiceRuntime {
  /** Connects as the service's own database role (see serviceDatabaseUrl). */
  readonly databaseUrl: string;
  readonly orm: MikroORM;
  readonly nats: NatsConnection;
  readonly topology: Topology;
  readonly relay: OutboxRelay | undefined;
}

export interface RuntimeOptions {
  readonly name: string;
  readonly config: Pick<BaseConfig, 'DATABASE_URL' | 'NATS_NAMESPACE'> &
    NatsSettings & {
      readonly PASSAGE_STREAM_REPLICAS?: number;
    };
  readonly schema: string;
  readonly migrations: readonly MigrationObject[];
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
 * What every service stands on, in the order it needs it: its database role and schema
 * (migrations applied), NATS with its streams, and the relay of its outbox. A service started
 * while Postgres or NATS is down waits for them with backoff (a log line per try) instead of
 * exiting; a refused role or bad configuration still ends the start at once.
 */
export async function openServiceRuntime(options: RuntimeOptions): Promise<ServiceRuntime> {
  const { config, schema, log } = options;
  // Bad NATS settings stop the start before anything is waited for.
  natsConnectionOptions(config, options.name);
  const streams = options.streams ?? (isServiceName(options.name) ? serviceAccess[options.name].ensures : undefined);
  if (!streams) throw new Error(`openServiceRuntime: no streams declared for ${options.name}`);
  const { databaseUrl, orm } = await untilAvailable(
    'Postgres',
    async () => {
      const url = await serviceDatabaseUrl(config.DATABASE_URL, schema, log);
      const opened = await openDatabase({
        url,
        schema,
        entities: options.entities ?? [],
        migrations: options.migrations,
      });
      return { databaseUrl: url, orm: opened };
    },
    log,
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
  return { databaseUrl, orm, nats, topology, relay };
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
  shutdown.add('outbox relay', async () => runtime.relay?.stop());
  shutdown.add('nats', () => runtime.nats.drain());
  shutdown.add('database', () => runtime.orm.close(true));
}
