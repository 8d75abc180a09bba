import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
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
  readonly areas: readonly Area[];
  readonly batchMax: number;
  readonly log: Logger;
  readonly retryDelayMs?: number;
  /** Told of each committed batch: entries appended, and for each event its bus-to-log lag. */
  readonly onBatch?: (appended: number, lagsMs: readonly number[]) => void;
}

interface Feed {
  readonly stream: string;
  readonly consumer: string;
  readonly messages: ConsumerMessages;
  readonly reading: Promise<void>;
}

/**
 * Reads every stream from just after the last event the log holds, in stream order, into
 * one writer that appends in batches (one transaction each). The log is its own cursor: the
 * stream positions are committed with the entries, so after a crash or a failed batch the
 * feeds reopen exactly where the log ends. Nothing is lost or doubled, and the entries of a
 * stream are in its order, whatever happened (docs/adr/0016-audit-log.md).
 */
export class LogConsumer {
  readonly #options: LogConsumerOptions;
  #queue: JsMsg[] = [];
  #feeds: Feed[] = [];
  #writer: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #running = false;
  #jsm: JetStreamManager | undefined;

  constructor(options: LogConsumerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#jsm = await jetstreamManager(this.#options.nats);
    this.#running = true;
    await this.#openFeeds();
    this.#writer = this.#write();
  }

  /** Stops reading; what was read is written (and acked) first. */
  async stop(): Promise<void> {
    const feeds = this.#feeds;
    await Promise.all(feeds.map((feed) => feed.messages.close()));
    await Promise.all(feeds.map((feed) => feed.reading));
    this.#running = false;
    this.#wake?.();
    await this.#writer;
    await this.#deleteConsumers(feeds);
  }

  async #openFeeds(): Promise<void> {
    const { nats, topology, areas, batchMax, ingest } = this.#options;
    const jsm = this.#jsm!;
    const streams = areas.map((area) => ({ area, stream: topology.stream(area).name }));
    const positions = await ingest.positions(streams.map((s) => s.stream));
    this.#feeds = await Promise.all(
      streams.map(async ({ area, stream }) => {
        const position = positions.get(stream) ?? 0;
        // Ephemeral: it lives as long as this process reads it, and a restart makes a new one.
        const info = await jsm.consumers.add(stream, {
          ack_policy: AckPolicy.Explicit,
          ...(position > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: position + 1 }
            : { deliver_policy: DeliverPolicy.All }),
          filter_subject: topology.everything(area),
          ack_wait: 60_000_000_000,
          max_deliver: 1,
          inactive_threshold: 30_000_000_000,
          max_ack_pending: batchMax * 4,
        });
        const messages = await (
          await jetstream(nats).consumers.get(stream, info.name)
        ).consume({
          max_messages: batchMax,
        });
        const reading = (async () => {
          for await (const message of messages) {
            this.#queue.push(message);
            this.#wake?.();
          }
        })();
        return { stream, consumer: info.name, messages, reading };
      }),
    );
  }

  async #deleteConsumers(feeds: readonly Feed[]): Promise<void> {
    await Promise.all(feeds.map((feed) => this.#jsm!.consumers.delete(feed.stream, feed.consumer).catch(() => false)));
  }

  /** After a failed batch: drop what was read and start again from the end of the log. */
  async #reopen(): Promise<void> {
    const feeds = this.#feeds;
    await Promise.all(feeds.map((feed) => feed.messages.close()));
    await Promise.all(feeds.map((feed) => feed.reading));
    await this.#deleteConsumers(feeds);
    this.#queue = [];
    if (this.#running) await this.#openFeeds();
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
            stream: msg.info.stream,
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
        for (const item of parked) {
          log.warn({ subject: item.subject, streamSeq: item.streamSeq, error: item.error }, 'event parked');
        }
        const now = Date.now();
        onBatch?.(
          appended,
          incoming.map((event) => now - event.receivedAt.getTime()),
        );
      } catch (error) {
        log.error(
          { err: error, events: batch.length },
          'could not append to the audit log; reading again from its end',
        );
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
        await this.#reopen().catch((reopenError: unknown) =>
          log.error({ err: reopenError }, 'could not reopen the event feeds; retrying'),
        );
      }
    }
  }
}
