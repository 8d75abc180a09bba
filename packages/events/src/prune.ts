import type pg from 'pg';
import { databaseClient, type Logger } from '@passage/platform';
import { quoteIdent } from './schema-sql.ts';

/** What a pruning task runs on: the pruner's own connection, outside any transaction. */
export type PruneClient = Pick<pg.Client, 'query'>;

/**
 * One kind of row a service lets go of. `round` deletes at most `limit` rows older than what
 * the task keeps (at `now`) and answers how many it deleted; the pruner calls it again while
 * it deletes a whole batch, so no statement holds locks on more than `limit` rows.
 */
export interface PruneTask {
  readonly name: string;
  round(client: PruneClient, now: Date, limit: number): Promise<number>;
}

/**
 * A task that deletes, in batches, the rows of `schema.table` where `column` is older than
 * `keepMs` (and `where`, if given, holds): `delete … where ctid in (select ctid … limit n)`.
 */
export function pruneOlderThan(options: {
  readonly name: string;
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly keepMs: number;
  readonly where?: string;
}): PruneTask {
  const table = `${quoteIdent(options.schema)}.${quoteIdent(options.table)}`;
  const column = quoteIdent(options.column);
  const extra = options.where ? ` and (${options.where})` : '';
  return {
    name: options.name,
    async round(client, now, limit) {
      const cutoff = new Date(now.getTime() - options.keepMs);
      const result = await client.query(
        `delete from ${table} where ctid in (
           select ctid from ${table} where ${column} < $1${extra} limit $2
         )`,
        [cutoff, limit],
      );
      return result.rowCount ?? 0;
    },
  };
}

const day = 86_400_000;

/** How long the event tables keep what they no longer need (docs/adr/0033-retention.md). */
export interface EventRetention {
  /** A published outbox row: past the NATS duplicate window (2 minutes) it is only history. */
  readonly outboxMs: number;
  /** An inbox row: the longest a redelivery of the event can still arrive (see the ADR). */
  readonly inboxMs: number;
}

export const defaultEventRetention: EventRetention = { outboxMs: 7 * day, inboxMs: 30 * day };

/** The event tables' tasks for one schema: published outbox rows and old inbox rows. */
export function eventTablePruning(schema: string, retention: EventRetention = defaultEventRetention): PruneTask[] {
  return [
    pruneOlderThan({
      name: 'outbox',
      schema,
      table: 'outbox',
      column: 'published_at',
      keepMs: retention.outboxMs,
      // published_at < cutoff already excludes unpublished rows (null); said for the reader.
      where: 'published_at is not null',
    }),
    pruneOlderThan({ name: 'inbox', schema, table: 'inbox', column: 'processed_at', keepMs: retention.inboxMs }),
  ];
}

export interface PrunerOptions {
  readonly databaseUrl: string;
  /** The schema whose pruning this elects a leader for. */
  readonly schema: string;
  readonly tasks: readonly PruneTask[];
  readonly log: Logger;
  /** Rows per DELETE. */
  readonly batchSize?: number;
  /** Time between rounds. */
  readonly intervalMs?: number;
  /** The clock: tests move it instead of waiting. */
  readonly now?: () => Date;
}

export interface PruneReport {
  /** False when another instance holds the schema's pruning lock: this one did nothing. */
  readonly leader: boolean;
  /** Rows deleted, task by task. */
  readonly deleted: Readonly<Record<string, number>>;
}

/**
 * Deletes, in bounded batches, the rows a service no longer needs. Several instances of a
 * service may run one each: a session advisory lock (as the outbox relay's) elects one per
 * schema, the others stand by and take over when its connection drops. A task that fails is
 * logged and tried again next round; the others still run.
 */
export class Pruner {
  readonly #options: Required<PrunerOptions>;
  #client: pg.Client | undefined;
  #leader = false;
  #running = false;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: PrunerOptions) {
    this.#options = { batchSize: 500, intervalMs: 10 * 60_000, now: () => new Date(), ...options };
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    await this.#disconnect();
  }

  /** One round: every task, batch after batch until it has nothing older left. */
  async pruneOnce(): Promise<PruneReport> {
    const client = await this.#connect();
    if (!this.#leader) {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtext($1)) as locked', [
        `${this.#options.schema}.prune`,
      ]);
      this.#leader = rows[0]?.locked === true;
    }
    if (!this.#leader) return { leader: false, deleted: {} };
    const deleted: Record<string, number> = {};
    const now = this.#options.now();
    for (const task of this.#options.tasks) {
      let total = 0;
      try {
        for (;;) {
          const count = await task.round(client, now, this.#options.batchSize);
          total += count;
          if (count < this.#options.batchSize || this.#stopping) break;
        }
      } catch (error) {
        this.#options.log.warn({ err: error, task: task.name }, 'pruning failed; trying again next round');
      }
      deleted[task.name] = total;
    }
    const any = Object.values(deleted).some((count) => count > 0);
    if (any) this.#options.log.info({ schema: this.#options.schema, deleted }, 'pruned');
    return { leader: true, deleted };
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        await this.pruneOnce();
      } catch (error) {
        this.#options.log.warn({ err: error }, 'pruning round failed; trying again later');
        await this.#disconnect();
      }
      await this.#sleep(this.#options.intervalMs);
    }
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = databaseClient(this.#options.databaseUrl, { application_name: 'pruner' });
    client.on('error', (error) => this.#options.log.warn({ err: error }, 'pruner lost its database connection'));
    await client.connect();
    this.#client = client;
    this.#leader = false;
    return client;
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#leader = false;
    await client?.end().catch(() => undefined);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
