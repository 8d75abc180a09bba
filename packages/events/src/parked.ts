import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { PassageError } from '@passage/platform';
import { parkedEventReplayed } from './access.ts';
import type { EventHandler } from './consumer.ts';
import { createEnvelope, decodeEnvelope, type Envelope } from './envelope.ts';
import { enqueueEvents } from './outbox.ts';
import { quoteIdent } from './schema-sql.ts';
import type { Topology } from './topology.ts';

export interface ParkedEventRow {
  readonly eventId: string;
  readonly consumer: string;
  readonly subject: string;
  /** The envelope's type; empty when the payload does not decode. */
  readonly type: string;
  readonly attempts: number;
  readonly error: string;
  readonly parkedAt: Date;
}

export type ReplayOutcome = 'applied' | 'duplicate' | 'failed';

export interface ReplayResult {
  readonly outcome: ReplayOutcome;
  /** failed: the handler's new error. */
  readonly error: string;
  /** The id of the audit.v1.parked_event_replayed event published for it. */
  readonly auditEventId: string;
}

/** Who asked for a replay: ids and a role, as an envelope's actor. */
export interface ReplayActor {
  readonly agency: string;
  readonly user: string;
  readonly role: string;
}

export interface ParkedEventsOptions {
  /** consent, referrals or escalation: named in the audit event. */
  readonly service: string;
  readonly orm: MikroORM;
  readonly schema: string;
  readonly topology: Topology;
  /** Each durable consumer of the service, with the handler its IdempotentConsumer runs. */
  readonly handlers: Readonly<Record<string, EventHandler>>;
  readonly now?: () => Date;
}

interface ParkedRow {
  consumer: string;
  event_id: string;
  subject: string;
  payload: Buffer;
  attempts: number;
  error: string;
  parked_at: Date | string;
}

/**
 * A service's parked events (IdempotentConsumer parks an event that keeps failing), listed and
 * run again on an administrator's request. A replay goes through the consumer's own path —
 * one transaction inserts the inbox row and runs the handler — and in that transaction also
 * removes the event from parked_events and writes `audit.v1.parked_event_replayed` to the
 * outbox. A replay that fails again leaves the event parked with the new error, and is
 * audited too (docs/adr/0033-retention.md).
 */
export class ParkedEvents {
  readonly #options: Required<ParkedEventsOptions>;
  readonly #table: string;

  constructor(options: ParkedEventsOptions) {
    this.#options = { now: () => new Date(), ...options };
    this.#table = `${quoteIdent(options.schema)}.parked_events`;
  }

  get service(): string {
    return this.#options.service;
  }

  async list(consumer = '', limit = 100): Promise<ParkedEventRow[]> {
    const rows = await this.#options.orm.em.fork().execute<ParkedRow[]>(
      `select consumer, event_id, subject, payload, attempts, error, parked_at from ${this.#table}
       where (? = '' or consumer = ?) order by parked_at, event_id limit ?`,
      [consumer, consumer, Math.min(Math.max(limit || 100, 1), 1000)],
    );
    return rows.map((row) => ({
      eventId: row.event_id,
      consumer: row.consumer,
      subject: row.subject,
      type: decoded(row.payload)?.type ?? '',
      attempts: row.attempts,
      error: row.error,
      parkedAt: new Date(row.parked_at),
    }));
  }

  async replay(eventId: string, actor: ReplayActor, consumer = ''): Promise<ReplayResult> {
    if (!eventId) throw PassageError.invalid([{ field: 'event_id', description: 'required' }]);
    const { orm, schema, handlers } = this.#options;
    const rows = await orm.em
      .fork()
      .execute<ParkedRow[]>(
        `select consumer, event_id, subject, payload, attempts, error, parked_at from ${this.#table} where event_id = ? and (? = '' or consumer = ?)`,
        [eventId, consumer, consumer],
      );
    if (rows.length === 0) throw new PassageError('not_found', `no parked event ${eventId} in ${this.service}`);
    if (rows.length > 1) {
      throw PassageError.invalid([
        {
          field: 'consumer',
          description: `${rows.length} consumers parked ${eventId}: name one of ${rows.map((r) => r.consumer).join(', ')}`,
        },
      ]);
    }
    const row = rows[0]!;
    const handle = handlers[row.consumer];
    if (!handle) {
      throw new PassageError('failed_precondition', `${this.service} runs no consumer ${row.consumer} any more`);
    }
    const envelope = decoded(row.payload);
    const attempts = row.attempts + 1;
    if (!envelope) {
      return this.#failed(row, actor, attempts, 'undecodable event: it cannot be replayed');
    }

    let outcome: ReplayOutcome = 'applied';
    let auditEventId = '';
    try {
      await orm.em.fork().transactional(async (em) => {
        const inserted = await em.execute<{ event_id: string }[]>(
          `insert into ${quoteIdent(schema)}.inbox (consumer, event_id) values (?, ?)
           on conflict do nothing returning event_id`,
          [row.consumer, envelope.id],
        );
        if (inserted.length === 0) outcome = 'duplicate';
        else await handle({ envelope, subject: row.subject, attempt: attempts }, em);
        await em.execute(`delete from ${this.#table} where consumer = ? and event_id = ?`, [
          row.consumer,
          row.event_id,
        ]);
        auditEventId = await this.#audit(em, row, actor, outcome, attempts);
      });
    } catch (error) {
      return this.#failed(row, actor, attempts, errorText(error));
    }
    return { outcome, error: '', auditEventId };
  }

  /** Still parked, with the new error and count; the failed replay audited all the same. */
  async #failed(row: ParkedRow, actor: ReplayActor, attempts: number, error: string): Promise<ReplayResult> {
    let auditEventId = '';
    await this.#options.orm.em.fork().transactional(async (em) => {
      await em.execute(
        `update ${this.#table} set attempts = ?, error = ?, parked_at = ? where consumer = ? and event_id = ?`,
        [attempts, error, this.#options.now(), row.consumer, row.event_id],
      );
      auditEventId = await this.#audit(em, row, actor, 'failed', attempts);
    });
    return { outcome: 'failed', error, auditEventId };
  }

  async #audit(
    em: EntityManager,
    row: ParkedRow,
    actor: ReplayActor,
    outcome: ReplayOutcome,
    attempts: number,
  ): Promise<string> {
    const envelope = createEnvelope({
      type: `audit.v1.${parkedEventReplayed}`,
      occurredAt: this.#options.now(),
      actor,
      payload: {
        $case: 'parkedEventReplayed',
        value: { eventId: row.event_id, consumer: row.consumer, service: this.service, outcome, attempts },
      },
    });
    await enqueueEvents(em, this.#options.schema, [
      { subject: this.#options.topology.audit(parkedEventReplayed), envelope },
    ]);
    return envelope.id;
  }
}

function decoded(payload: Buffer): Envelope | undefined {
  try {
    return decodeEnvelope(payload);
  } catch {
    return undefined;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
