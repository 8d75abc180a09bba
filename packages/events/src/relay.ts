import type pg from 'pg';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { databaseClient, untraced, workSpan, type Logger } from '@passage/platform';
import { outboxChannel, quoteIdent } from './schema-sql.ts';
import { contextFromCarrier, injectIntoHeaders, natsHeaders } from './trace-context.ts';

export interface RelayOptions {
  readonly databaseUrl: string;
  readonly schema: string;
  readonly nats: NatsConnection;
  readonly log: Logger;
  /** How often to look when no NOTIFY arrives (a lost notification, a missed wake-up). */
  readonly pollIntervalMs?: number;
  readonly batchSize?: number;
  /**
   * Called after a batch's PubAcks and before the rows are marked published: the one
   * window where a crash leaves published-but-unmarked rows. Fault tests use it to die there.
   */
  readonly afterPublish?: (eventIds: readonly string[]) => Promise<void> | void;
}

interface OutboxRow {
  seq: string;
  id: string;
  subject: string;
  payload: Buffer;
  trace_context: Record<string, string>;
}

const tracer = trace.getTracer('@passage/events');

/**
 * Publishes committed outbox rows to JetStream in the order they became visible, with
 * Nats-Msg-Id = event id, and marks them published only after the PubAck. Several relays
 * may run: a session advisory lock elects one publisher per schema, so order holds and
 * the others stand by to take over when its connection drops.
 */
export class OutboxRelay {
  readonly #options: Required<Omit<RelayOptions, 'afterPublish'>> & Pick<RelayOptions, 'afterPublish'>;
  readonly #js: JetStreamClient;
  #client: pg.Client | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #leader = false;
  /** A NOTIFY that arrived while publishing: look again at once instead of sleeping. */
  #notified = false;

  constructor(options: RelayOptions) {
    this.#options = { pollIntervalMs: 1000, batchSize: 200, ...options };
    this.#js = jetstream(options.nats);
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  async start(): Promise<void> {
    this.#running = true;
    await this.#connect();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    await this.#client?.end().catch(() => undefined);
    this.#client = undefined;
  }

  async #connect(): Promise<void> {
    const client = databaseClient(this.#options.databaseUrl, { application_name: 'outbox-relay' });
    client.on('notification', () => {
      this.#notified = true;
      this.#wake?.();
    });
    client.on('error', (error) => this.#options.log.warn({ err: error }, 'outbox relay lost its database connection'));
    await client.connect();
    await client.query(`listen "${outboxChannel(this.#options.schema)}"`);
    this.#client = client;
    this.#leader = false;
  }

  async #run(): Promise<void> {
    const { log, pollIntervalMs } = this.#options;
    while (this.#running) {
      try {
        // Looking for rows (and for the lead) makes no span; a batch found does (ADR 32).
        const published = await untraced(async () => {
          if (!this.#client) await this.#connect();
          if (!this.#leader) this.#leader = await this.#tryLead();
          return this.#leader ? await this.#publishBatch() : 0;
        });
        if (published === 0) await this.#sleep(pollIntervalMs);
      } catch (error) {
        log.error({ err: error }, 'outbox relay failed; retrying');
        await this.#client?.end().catch(() => undefined);
        this.#client = undefined;
        this.#leader = false;
        await this.#sleep(pollIntervalMs);
      }
    }
  }

  async #tryLead(): Promise<boolean> {
    const result = await this.#client!.query<{ locked: boolean }>(
      'select pg_try_advisory_lock(hashtext($1)) as locked',
      [`${this.#options.schema}.outbox`],
    );
    return result.rows[0]?.locked === true;
  }

  /**
   * Drains what is committed, batch after batch. Marking what was published and reading the
   * next batch are one statement (the read excludes the rows it marks: its snapshot still shows
   * them unpublished). In a backlog (a full batch), the next batch is read while this one's
   * PubAcks come back, and published only once they all have: JetStream stores the events in
   * the order they were read, and a batch's failure publishes nothing after it.
   */
  async #publishBatch(): Promise<number> {
    const client = this.#client!;
    const table = `${quoteIdent(this.#options.schema)}.outbox`;
    let published = 0;
    // PubAcked, not yet marked.
    let marking: string[] = [];
    let rows = await this.#markAndRead(client, table, [], []);
    while (rows.length > 0) {
      const batch = rows;
      const sending = workSpan(
        'outbox relay batch',
        {
          attributes: { 'messaging.system': 'nats', 'messaging.batch.message_count': batch.length },
          // Each event's publish span continues the trace that wrote it; the batch links to those.
          links: batch.flatMap((row) => {
            const origin = trace.getSpanContext(contextFromCarrier(row.trace_context));
            return origin ? [{ context: origin }] : [];
          }),
        },
        () => this.#publishRows(client, table, batch),
      );
      if (batch.length === this.#options.batchSize && this.#running) {
        const reading = this.#markAndRead(
          client,
          table,
          marking,
          batch.map((row) => row.id),
        );
        const [acked, read] = await Promise.allSettled([sending, reading]);
        if (acked.status === 'rejected') throw acked.reason;
        if (read.status === 'rejected') throw read.reason;
        marking = acked.value;
        rows = read.value;
      } else {
        marking = [...marking, ...(await sending)];
        rows = [];
        if (this.#running) {
          rows = await this.#markAndRead(client, table, marking, []);
          marking = [];
        }
      }
      published += batch.length;
    }
    // What a read did not mark: after a backlog, or when stopping.
    await this.#mark(client, table, marking);
    return published;
  }

  async #mark(client: pg.Client, table: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await client.query(`update ${table} set published_at = now() where id = any($1::uuid[])`, [ids]);
  }

  /** Marks `marking` published and reads the next batch, leaving out what is in flight. */
  async #markAndRead(
    client: pg.Client,
    table: string,
    marking: readonly string[],
    inFlight: readonly string[],
  ): Promise<OutboxRow[]> {
    const { rows } = await client.query<OutboxRow>(
      `with marked as (
         update ${table} set published_at = now() where id = any($1::uuid[])
       )
       select seq, id, subject, payload, trace_context from ${table}
       where published_at is null and id <> all($1::uuid[]) and id <> all($3::uuid[])
       order by seq limit $2`,
      [marking, this.#options.batchSize, inFlight],
    );
    return rows;
  }

  /** Publishes the rows in order; the ids PubAcked, to mark. A failure marks what went before it and throws. */
  async #publishRows(client: pg.Client, table: string, rows: OutboxRow[]): Promise<string[]> {
    // Sent back to back on one connection, so JetStream stores them in this order.
    const acks = rows.map((row) => this.#publish(row));
    const results = await Promise.allSettled(acks);
    const firstFailure = results.findIndex((result) => result.status === 'rejected');
    const done = firstFailure === -1 ? rows : rows.slice(0, firstFailure);
    const ids = done.map((row) => row.id);

    if (ids.length > 0) await this.#options.afterPublish?.(ids);
    if (firstFailure !== -1) {
      await this.#mark(client, table, ids);
      const failed = rows[firstFailure]!;
      const reason = (results[firstFailure] as PromiseRejectedResult).reason as unknown;
      await client.query(`update ${table} set attempts = attempts + 1, last_error = $2 where id = $1`, [
        failed.id,
        String(reason),
      ]);
      throw new Error(`publishing event ${failed.id} failed: ${String(reason)}`);
    }
    return ids;
  }

  async #publish(row: OutboxRow): Promise<void> {
    const parent = contextFromCarrier(row.trace_context);
    const span = tracer.startSpan(
      `publish ${row.subject}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': row.subject,
          'messaging.message.id': row.id,
        },
      },
      parent,
    );
    try {
      const headers = natsHeaders();
      injectIntoHeaders(headers, trace.setSpan(parent, span));
      await context.with(trace.setSpan(parent, span), () =>
        this.#js.publish(row.subject, row.payload, { msgID: row.id, headers }),
      );
    } catch (error) {
      span.recordException(error as Error);
      throw error;
    } finally {
      span.end();
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#notified) {
      this.#notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#notified = false;
        done();
      };
    });
  }
}
