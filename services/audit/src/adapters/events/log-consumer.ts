import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Area, Topology } from '@passage/events';
import type { Logger } from '@passage/platform';
import type { Ingest } from '../../app/ingest.ts';
import type { IncomingEvent } from '../../app/ports.ts';
import { isParked, toIncoming } from './incoming-event.ts';

export interface LogConsumerOptions {
  readonly nats: NatsConnection;
  readonly topology: Topology;
  readonly ingest: Ingest;
  /** Durable consumer names are `<prefix>-<area>`. */
  readonly prefix: string;
  readonly areas: readonly Area[];
  readonly batchMax: number;
  readonly log: Logger;
  readonly retryDelayMs?: number;
  /** Told of each committed batch: entries appended, and for each event its bus-to-log lag. */
  readonly onBatch?: (appended: number, lagsMs: readonly number[]) => void;
}

/**
 * One durable consumer per stream, all feeding one writer that appends in batches: a batch
 * is one transaction, acked only after it commits. A crash before the acks means
 * redelivery, and the log skips the event ids it already holds, so nothing is lost, doubled
 * or reordered around a gap.
 */
export class LogConsumer {
  readonly #options: LogConsumerOptions;
  readonly #queue: JsMsg[] = [];
  readonly #subscriptions: ConsumerMessages[] = [];
  readonly #readers: Promise<void>[] = [];
  #writer: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #running = false;

  constructor(options: LogConsumerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { nats, topology, prefix, areas, batchMax } = this.#options;
    const jsm = await jetstreamManager(nats);
    this.#running = true;
    for (const area of areas) {
      const stream = topology.stream(area).name;
      const name = `${prefix}-${area}`;
      const existing = await jsm.consumers.info(stream, name).catch(() => undefined);
      if (!existing) {
        await jsm.consumers.add(stream, {
          durable_name: name,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: topology.everything(area),
          ack_wait: 30_000_000_000,
          max_deliver: -1,
          max_ack_pending: batchMax * 4,
        });
      }
      const messages = await (await jetstream(nats).consumers.get(stream, name)).consume({ max_messages: batchMax });
      this.#subscriptions.push(messages);
      this.#readers.push(
        (async () => {
          for await (const message of messages) {
            this.#queue.push(message);
            this.#wake?.();
          }
        })(),
      );
    }
    this.#writer = this.#write();
  }

  /** Stops pulling; what was pulled is written (and acked) first. */
  async stop(): Promise<void> {
    await Promise.all(this.#subscriptions.map((messages) => messages.close()));
    await Promise.all(this.#readers);
    this.#running = false;
    this.#wake?.();
    await this.#writer;
  }

  async #write(): Promise<void> {
    const { ingest, topology, batchMax, log, onBatch } = this.#options;
    const retryDelayMs = this.#options.retryDelayMs ?? 1000;
    while (this.#running || this.#queue.length > 0) {
      if (this.#queue.length === 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      const batch = this.#queue.splice(0, batchMax);
      const read = batch.map((msg) =>
        toIncoming(
          {
            subject: msg.subject,
            data: msg.data,
            streamSeq: msg.seq,
            receivedAt: new Date(Number(msg.timestampNanos / 1_000_000n)),
          },
          topology,
        ),
      );
      const parked = read.filter(isParked);
      const incoming = read.filter((item): item is IncomingEvent => !isParked(item));
      try {
        const { appended } = await ingest.record(incoming, parked);
        for (const msg of batch) msg.ack();
        for (const item of parked)
          log.warn({ subject: item.subject, streamSeq: item.streamSeq, error: item.error }, 'event parked');
        const now = Date.now();
        onBatch?.(
          appended,
          incoming.map((event) => now - event.receivedAt.getTime()),
        );
      } catch (error) {
        log.error(
          { err: error, events: batch.length },
          'could not append to the audit log; the batch will be redelivered',
        );
        for (const msg of batch) msg.nak(retryDelayMs);
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  }
}
