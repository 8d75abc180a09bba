import type { NatsConnection } from '@nats-io/nats-core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { metrics, untraced, type Logger, type Readiness } from '@passage/platform';
import { quoteIdent } from './schema-sql.ts';

export interface DependencyWatchOptions {
  /** The service's short name, for the `passage_dependency_up` gauge. */
  readonly service: string;
  readonly readiness: Readiness;
  readonly nats: NatsConnection;
  readonly orm: MikroORM;
  /** How often Postgres is asked `select 1` (DEPENDENCY_CHECK_MS). */
  readonly intervalMs: number;
  /** How long an answer may take before Postgres counts as down; the interval by default. */
  readonly timeoutMs?: number;
  readonly log: Logger;
}

export interface DependencyWatch {
  /** Runs one Postgres check now (tests; the interval runs them otherwise). */
  checkNow(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Health that follows what the service stands on: `postgres` holds while a cheap `select 1`
 * answers in time (asked every `intervalMs`), `nats` while the connection is up (the client's
 * own disconnect and reconnect). Either failing turns the service's health NOT_SERVING
 * through its Readiness; it turns back once both answer again. It also exports each
 * readiness condition as `passage_dependency_up`.
 */
export function watchDependencies(options: DependencyWatchOptions): DependencyWatch {
  const { readiness, nats, orm, intervalMs, log, service } = options;
  const timeoutMs = options.timeoutMs ?? intervalMs;
  let stopped = false;
  readiness.set('nats', !nats.isClosed());
  const statuses = (async () => {
    for await (const status of nats.status()) {
      if (stopped) break;
      if (status.type === 'disconnect' || status.type === 'close') readiness.set('nats', false);
      else if (status.type === 'reconnect') readiness.set('nats', true);
    }
  })().catch((error: unknown) => log.warn({ err: error }, 'NATS status watch ended'));

  let running: Promise<boolean> | undefined;
  const checkNow = (): Promise<boolean> => {
    running ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          untraced(() => orm.em.fork().execute('select 1')),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        if (!stopped) readiness.set('postgres', true);
        return true;
      } catch (error) {
        if (!stopped) {
          if (readiness.conditions().get('postgres') !== false)
            log.warn({ err: error }, 'Postgres did not answer its health check');
          readiness.set('postgres', false);
        }
        return false;
      } finally {
        clearTimeout(timer);
        running = undefined;
      }
    })();
    return running;
  };
  readiness.set('postgres', true);
  const interval = setInterval(() => void checkNow(), intervalMs);
  const unobserve = metrics().observe(['dependencyUp'], (observe) => {
    for (const [dependency, holds] of readiness.conditions())
      observe('dependencyUp', holds ? 1 : 0, { service, dependency });
  });
  return {
    checkNow,
    async stop() {
      stopped = true;
      clearInterval(interval);
      unobserve();
      await running?.catch(() => undefined);
      void statuses;
    },
  };
}

/**
 * The outbox gauges of a schema, read when metrics are collected: rows not yet published and
 * the age of the oldest (0 when none). Returns what removes them.
 */
export function observeOutbox(orm: MikroORM, schema: string): () => void {
  const table = `${quoteIdent(schema)}.outbox`;
  return metrics().observe(['outboxBacklog', 'outboxOldestAge'], async (observe) => {
    const [row] = await orm.em.fork().execute<{ backlog: number; age: number }[]>(
      `select count(*)::int as backlog,
                coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age
           from ${table} where published_at is null`,
    );
    observe('outboxBacklog', row?.backlog ?? 0, { schema });
    observe('outboxOldestAge', Math.max(0, row?.age ?? 0), { schema });
  });
}
