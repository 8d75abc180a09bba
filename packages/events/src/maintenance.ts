import type { Logger } from '@passage/platform';
import type { EventHandler } from './consumer.ts';
import { ParkedEvents } from './parked.ts';
import { Pruner, eventTablePruning, type PruneTask } from './prune.ts';
import type { ServiceRuntime } from './runtime.ts';
import { eventRetention } from './settings.ts';

export interface MaintenanceOptions {
  readonly service: string;
  readonly runtime: Pick<ServiceRuntime, 'databaseUrl' | 'orm' | 'topology'>;
  readonly schema: string;
  readonly config: {
    readonly OUTBOX_RETENTION_DAYS: number;
    readonly INBOX_RETENTION_DAYS: number;
    readonly PRUNE_INTERVAL_MS: number;
    readonly PRUNE_BATCH_SIZE: number;
  };
  /** The service's durable consumers and their handlers, for replays of what they parked. */
  readonly handlers: Readonly<Record<string, EventHandler>>;
  /** The service's own pruning, after the event tables'. */
  readonly tasks?: readonly PruneTask[];
  readonly now?: () => Date;
  readonly log: Logger;
}

export interface Maintenance {
  readonly pruner: Pruner;
  readonly parked: ParkedEvents;
}

/**
 * The housekeeping of a service with an outbox and durable consumers: the pruner of its
 * schema (the event tables, then its own tasks), started, and its parked events for
 * passage.ops.v1.ParkedEventsService (docs/adr/0033-retention.md).
 */
export function startMaintenance(options: MaintenanceOptions): Maintenance {
  const { runtime, schema, config, log } = options;
  const now = options.now ?? (() => new Date());
  const pruner = new Pruner({
    databaseUrl: runtime.databaseUrl,
    schema,
    tasks: [...eventTablePruning(schema, eventRetention(config)), ...(options.tasks ?? [])],
    batchSize: config.PRUNE_BATCH_SIZE,
    intervalMs: config.PRUNE_INTERVAL_MS,
    now,
    log,
  });
  pruner.start();
  const parked = new ParkedEvents({
    service: options.service,
    orm: runtime.orm,
    schema,
    topology: runtime.topology,
    handlers: options.handlers,
    now,
  });
  return { pruner, parked };
}
