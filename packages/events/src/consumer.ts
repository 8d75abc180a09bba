import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { metrics, type Logger } from '@passage/platform';
import { confirmNatsAccess } from './connect.ts';
import { decodeEnvelope, type Envelope } from './envelope.ts';
import { quoteIdent } from './schema-sql.ts';
import { contextFromHeaders } from './trace-context.ts';

export interface DeliveredEvent {
  readonly envelope: Envelope;
  readonly subject: string;
  /** 1 on first delivery. */
  readonly attempt: number;
  /**
   * Its position in the stream: the order the events of one stream were published in.
   * Unknown (undefined) for a parked event an administrator replays.
   */
  readonly sequence?: number;
}

/** Runs inside the transaction that also records the event as processed. */
export type EventHandler = (event: DeliveredEvent, em: EntityManager) => Promise<void>;

export interface ConsumerOptions {
  /** Durable consumer name; also the inbox key. */
  readonly name: string;
  readonly stream: string;
  /** Exactly one filter subject (NATS 2.9). */
  readonly filterSubject: string;
  readonly nats: NatsConnection;
  readonly orm: MikroORM;
  /** The consuming service's schema, holding its inbox and parked_events tables. */
  readonly schema: string;
  readonly handle: EventHandler;
  readonly log: Logger;
  /** Deliveries before a failing event is parked instead of retried. */
  readonly maxAttempts?: number;
  readonly ackWaitMs?: number;
  readonly retryDelayMs?: number;
  /**
   * Events handed out and not yet acked (1000 by default). 1 keeps the events strictly in
   * stream order, a failing one retried before the next is handed out (webhooks, ADR 46).
   */
  readonly maxAckPending?: number;
  /**
   * Where a consumer that never applied an event starts when it is created: the stream's
   * beginning by default; a time for a consumer that wants only what happens from then on,
   * which it never starts before, however it is created again.
   */
  readonly startAt?: Date;
  /**
   * The durable as metrics name it, when not its own name: consumers of a family (a webhook
   * subscription's, whose name holds an id) count under the family's, and report no gauges.
   */
  readonly metricsName?: string;
  /** Called after the handler's transaction commits and before the ack (fault tests die here). */
  readonly afterCommit?: (event: DeliveredEvent) => Promise<void> | void;
  /** Told how each delivery ended (metrics, tests). */
  readonly onSettled?: (eventId: string, outcome: Outcome) => void;
  /** Told when the feed stops flowing (consumer missing, heartbeats missed) and flows again: a service's readiness follows it. */
  readonly onHealthChange?: (healthy: boolean) => void;
}

export type Outcome = 'applied' | 'duplicate' | 'retry' | 'parked';

/**
 * How far before the oldest inbox row a re-created consumer starts: longer than an event can
 * stay unsettled while later ones are applied (5 deliveries, naks of seconds, 30 s ack waits).
 */
export const resumeMarginMs = 10 * 60_000;

const tracer = trace.getTracer('@passage/events');

/**
 * A durable pull consumer that applies each event exactly once: the inbox row
 * (consumer, event id) is written in the same transaction as the handler's effect, so a
 * redelivery after a crash finds it and is acked without running the handler again. An
 * event that keeps failing is parked with its error after maxAttempts, and acked, so one
 * bad event neither blocks the feed forever nor disappears.
 */
export class IdempotentConsumer {
  readonly #options: Required<
    Omit<ConsumerOptions, 'afterCommit' | 'onSettled' | 'onHealthChange' | 'startAt' | 'metricsName'>
  > &
    Pick<ConsumerOptions, 'afterCommit' | 'onSettled' | 'onHealthChange' | 'startAt' | 'metricsName'>;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #inFlight: Promise<unknown> = Promise.resolve();
  #healthy = true;
  #unobserve: (() => void) | undefined;

  constructor(options: ConsumerOptions) {
    this.#options = { maxAttempts: 5, ackWaitMs: 30_000, retryDelayMs: 1_000, maxAckPending: 1000, ...options };
  }

  /** False while the durable consumer is missing or its heartbeats are being missed. */
  get healthy(): boolean {
    return this.#healthy;
  }

  #setHealthy(healthy: boolean): void {
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#options.onHealthChange?.(healthy);
  }

  /** Creates the durable consumer, or brings its settings up to date. */
  async #ensureConsumer(): Promise<void> {
    const { nats, stream, name, filterSubject, ackWaitMs, maxAckPending } = this.#options;
    const jsm = await jetstreamManager(nats);
    const existing = await jsm.consumers.info(stream, name).catch(() => undefined);
    if (existing) {
      await jsm.consumers.update(stream, name, { ack_wait: ackWaitMs * 1_000_000, max_ack_pending: maxAckPending });
      return;
    }
    const resume = await this.#resumeFrom();
    const { startAt: floor } = this.#options;
    const startAt = resume && floor ? new Date(Math.max(resume.getTime(), floor.getTime())) : (resume ?? floor);
    await jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ...(startAt
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: startAt.toISOString() }
        : { deliver_policy: DeliverPolicy.All }),
      filter_subject: filterSubject,
      ack_wait: ackWaitMs * 1_000_000,
      max_deliver: -1,
      max_ack_pending: maxAckPending,
    });
  }

  /**
   * Where a durable consumer created again (lost with a NATS node's disk, deleted by an
   * operator) starts: the whole stream for a consumer that never applied anything, else a
   * margin before the oldest event its inbox still holds. The inbox keeps only the
   * deduplication window (Pruner, docs/adr/0033-retention.md); starting from the stream's
   * beginning would apply again every event whose inbox row was pruned.
   */
  async #resumeFrom(): Promise<Date | undefined> {
    const { orm, schema, name } = this.#options;
    const [row] = await orm.em
      .fork()
      .execute<{ oldest: Date | string | null }[]>(
        `select min(processed_at) as oldest from ${quoteIdent(schema)}.inbox where consumer = ?`,
        [name],
      );
    if (!row?.oldest) return undefined;
    return new Date(new Date(row.oldest).getTime() - resumeMarginMs);
  }

  async start(): Promise<void> {
    const { nats, stream, name, log } = this.#options;
    await this.#ensureConsumer();
    const consumer = await jetstream(nats).consumers.get(stream, name);
    this.#unobserve = this.#options.metricsName ? undefined : this.#observe();
    // Pulls that expire every 10 s (heartbeats every 5 s): a consumer deleted under a pull is
    // noticed, and pulled from again once recreated, within seconds rather than a minute.
    this.#messages = await consumer.consume({ max_messages: 100, expires: 10_000 });
    const messages = this.#messages;
    // The consumer's own status: a durable consumer deleted under it (a NATS node restarted on
    // an empty disk, an operator) is created again — the inbox makes redelivered events no-ops —
    // and missed heartbeats say the feed is not flowing, instead of the service going quiet.
    void (async () => {
      for await (const status of messages.status()) {
        if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found') {
          this.#setHealthy(false);
          log.warn({ consumer: name, status: status.type }, 'durable consumer missing: creating it again');
          await this.#ensureConsumer().then(
            () => log.info({ consumer: name }, 'durable consumer created again'),
            (error: unknown) => log.warn({ err: error, consumer: name }, 'could not create the consumer yet'),
          );
        } else if (status.type === 'heartbeats_missed' && status.count >= 2) {
          this.#setHealthy(false);
          log.warn({ consumer: name, missed: status.count }, 'consumer heartbeats missed');
        } else if (status.type === 'next') {
          this.#setHealthy(true);
        }
      }
    })().catch((error: unknown) => log.warn({ err: error, consumer: name }, 'consumer status ended'));
    this.#loop = (async () => {
      for await (const msg of messages) {
        const processing = this.#process(msg);
        this.#inFlight = processing;
        await processing;
      }
    })();
    // A pull the service's NATS user may not make would leave the consumer waiting for ever:
    // refuse the start instead, naming the user and the subject.
    try {
      await confirmNatsAccess(nats);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops pulling; the message being handled finishes (and is acked) first. */
  async stop(): Promise<void> {
    this.#unobserve?.();
    this.#unobserve = undefined;
    await this.#messages?.close();
    await this.#inFlight;
    await this.#loop;
  }

  /**
   * The consumer's gauges, read when metrics are collected: what NATS has not delivered yet
   * (its lag), what awaits an ack or is being redelivered, and the events parked (ADR 31).
   */
  #observe(): () => void {
    const { nats, stream, name, orm, schema } = this.#options;
    const durable = { durable: name };
    return metrics().observe(
      ['consumerPending', 'consumerAckPending', 'consumerRedelivered', 'parkedEvents'],
      async (observe) => {
        const [info, parked] = await Promise.all([
          jetstreamManager(nats).then((jsm) => jsm.consumers.info(stream, name)),
          orm.em
            .fork()
            .execute<{ count: number }[]>(
              `select count(*)::int as count from ${quoteIdent(schema)}.parked_events where consumer = ?`,
              [name],
            ),
        ]);
        observe('consumerPending', info.num_pending, durable);
        observe('consumerAckPending', info.num_ack_pending, durable);
        observe('consumerRedelivered', info.num_redelivered, durable);
        observe('parkedEvents', parked[0]?.count ?? 0, durable);
      },
    );
  }

  get #metricsName(): string {
    return this.#options.metricsName ?? this.#options.name;
  }

  #settled(eventId: string, outcome: Outcome): void {
    metrics().add('consumerEvents', { durable: this.#metricsName, outcome });
    this.#options.onSettled?.(eventId, outcome);
  }

  async #process(msg: JsMsg): Promise<Outcome> {
    const { log, name } = this.#options;
    const parent = contextFromHeaders(msg.headers);
    const span = tracer.startSpan(
      `process ${msg.subject}`,
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'nats', 'messaging.consumer.group.name': name } },
      parent,
    );
    try {
      const outcome = await context.with(trace.setSpan(parent, span), () => this.#apply(msg));
      // A handler that failed (to be retried, or parked) shows as a failed span in the event's trace.
      if (outcome === 'retry' || outcome === 'parked') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      return outcome;
    } catch (error) {
      // Only reachable if parking itself failed (database down): leave it for redelivery.
      span.setStatus({ code: SpanStatusCode.ERROR });
      log.error({ err: error, consumer: name, seq: msg.seq }, 'could not record event outcome; it will be redelivered');
      msg.nak(this.#options.retryDelayMs);
      metrics().add('consumerEvents', { durable: this.#metricsName, outcome: 'retry' });
      return 'retry';
    } finally {
      span.end();
    }
  }

  async #apply(msg: JsMsg): Promise<Outcome> {
    const { orm, schema, name, handle, log, maxAttempts } = this.#options;
    const attempt = msg.info.deliveryCount;
    let event: DeliveredEvent;
    try {
      event = { envelope: decodeEnvelope(msg.data), subject: msg.subject, attempt, sequence: msg.seq };
    } catch (error) {
      await this.#park(
        msg,
        msg.headers?.get('Nats-Msg-Id') || `seq-${msg.seq}`,
        attempt,
        `undecodable event: ${String(error)}`,
      );
      metrics().add('consumerEvents', { durable: this.#metricsName, outcome: 'parked' });
      return 'parked';
    }

    let applied = false;
    try {
      await orm.em.fork().transactional(async (em) => {
        const inserted = await em.execute<{ event_id: string }[]>(
          `insert into ${quoteIdent(schema)}.inbox (consumer, event_id) values (?, ?)
           on conflict do nothing returning event_id`,
          [name, event.envelope.id],
        );
        if (inserted.length === 0) return;
        await handle(event, em);
        applied = true;
      });
    } catch (error) {
      if (attempt >= maxAttempts) {
        await this.#park(msg, event.envelope.id, attempt, errorText(error));
        log.error({ consumer: name, eventId: event.envelope.id, attempt }, 'event parked after repeated failures');
        this.#settled(event.envelope.id, 'parked');
        return 'parked';
      }
      log.warn({ consumer: name, eventId: event.envelope.id, attempt, err: error }, 'event handler failed; will retry');
      msg.nak(this.#options.retryDelayMs * attempt);
      this.#settled(event.envelope.id, 'retry');
      return 'retry';
    }
    if (applied) await this.#options.afterCommit?.(event);
    await msg.ackAck();
    const outcome = applied ? 'applied' : 'duplicate';
    this.#settled(event.envelope.id, outcome);
    return outcome;
  }

  async #park(msg: JsMsg, eventId: string, attempt: number, error: string): Promise<void> {
    const { orm, schema, name } = this.#options;
    await orm.em.fork().execute(
      `insert into ${quoteIdent(schema)}.parked_events (consumer, event_id, subject, payload, attempts, error)
       values (?, ?, ?, ?, ?, ?) on conflict (consumer, event_id) do update
       set attempts = excluded.attempts, error = excluded.error, parked_at = now()`,
      [name, eventId, msg.subject, Buffer.from(msg.data), attempt, error],
    );
    await msg.ackAck();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
