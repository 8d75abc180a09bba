import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import {
  confirmNatsAccess,
  contextFromHeaders,
  decodeEnvelope,
  ephemeralName,
  type Area,
  type Topology,
} from '@passage/events';
import { PassageError, type Logger } from '@passage/platform';
import type { Ingest } from '../../app/ingest.ts';
import type { IncomingEvent, IngestControl, StreamHead, StreamIngestStatus } from '../../app/ports.ts';
import {
  describeGap,
  findGap,
  firstAvailable,
  type AtStoredPosition,
  type StreamExtent,
  type StreamGap,
} from '../../domain/index.ts';
import { isParked, toIncoming } from './incoming-event.ts';

export interface LogConsumerOptions {
  readonly nats: NatsConnection;
  readonly topology: Topology;
  readonly ingest: Ingest;
  readonly areas: readonly Area[];
  readonly batchMax: number;
  readonly log: Logger;
  readonly retryDelayMs?: number;
  /** How often each stream is looked at for a reset, a loss or a vanished consumer (default 5 s). */
  readonly checkEveryMs?: number;
  /** Told of each committed batch: entries appended, and for each event its bus-to-log lag. */
  readonly onBatch?: (appended: number, lagsMs: readonly number[]) => void;
  /** Told whenever the set of streams stopped at a gap changes (empty: none). */
  readonly onStopped?: (gaps: readonly StreamGap[]) => void;
}

const tracer = trace.getTracer('@passage/audit');

interface Feed {
  readonly stream: string;
  readonly consumer: string;
  readonly messages: ConsumerMessages;
  /** The stream's creation time when the feed opened: a recreated stream has another. */
  readonly created: string;
  reading: Promise<void>;
  /** The last stream sequence read into the queue (or the log's position at opening). */
  lastRead: number;
  closing: boolean;
}

interface StreamSlot {
  readonly name: string;
  state: StreamIngestStatus['state'];
  detail: string;
  feed?: Feed | undefined;
  gap?: (StreamGap & { detectedAt: Date }) | undefined;
}

/**
 * Reads every stream from just after the last event the log holds, in stream order, into
 * one writer that appends in batches (one transaction each). The log is its own cursor: the
 * stream positions are committed with the entries, so after a crash or a failed batch the
 * feeds reopen exactly where the log ends. Nothing is lost or doubled, and the entries of a
 * stream are in its order, whatever happened (docs/adr/0016-audit-log.md).
 *
 * It never reads past a gap: before a stream is read, and whenever it is looked at again,
 * the stream must still hold what follows the stored position. When it does not (recreated,
 * purged, lost), reading that stream stops until an administrator acknowledges the gap,
 * which is then written into the log (docs/adr/0020-audit-log-whole-or-says-not.md).
 */
export class LogConsumer implements IngestControl {
  readonly #options: LogConsumerOptions;
  readonly #streams = new Map<string, StreamSlot>();
  #queue: JsMsg[] = [];
  /** Streams to look at (again) before reading: the writer does it once their queued events are written. */
  readonly #toOpen = new Set<string>();
  #writer: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #running = false;
  #jsm: JetStreamManager | undefined;
  #watch: NodeJS.Timeout | undefined;
  #watching: Promise<void> = Promise.resolve();
  /** Opening a stream and acknowledging its gap never overlap. */
  #exclusive: Promise<unknown> = Promise.resolve();
  #stoppedKey = '';

  constructor(options: LogConsumerOptions) {
    this.#options = options;
    for (const area of options.areas) {
      const name = options.topology.stream(area).name;
      this.#streams.set(name, { name, state: 'opening', detail: '' });
    }
  }

  async start(): Promise<void> {
    this.#jsm = await jetstreamManager(this.#options.nats);
    this.#running = true;
    await Promise.all([...this.#streams.keys()].map((name) => this.#open(name)));
    // A permission the audit service's NATS user lacks ends the start, naming it.
    await confirmNatsAccess(this.#options.nats);
    this.#writer = this.#write();
    const every = this.#options.checkEveryMs ?? 5000;
    this.#watch = setInterval(() => {
      this.#watching = this.#watching
        .then(() => this.#lookAgain())
        .catch((error: unknown) =>
          this.#options.log.warn({ err: error }, 'could not look at the streams; trying again'),
        );
    }, every);
  }

  /** Stops reading; what was read is written (and acked) first. */
  async stop(): Promise<void> {
    clearInterval(this.#watch);
    await this.#watching;
    this.#running = false;
    // A stream being opened right now finishes first, so its feed is closed below too.
    await this.#serially(() => Promise.resolve());
    await Promise.all([...this.#streams.values()].map((slot) => this.#closeFeed(slot)));
    this.#wake?.();
    await this.#writer;
  }

  status(): StreamIngestStatus[] {
    return [...this.#streams.values()].map((slot) => ({
      stream: slot.name,
      state: slot.state,
      detail: slot.detail,
      ...(slot.gap ? { gap: slot.gap } : {}),
    }));
  }

  acknowledgeGap(
    stream: string,
    actor: { readonly agency: string; readonly user: string; readonly role: string },
    expected: { readonly lastStoredSeq: number; readonly firstSeq: number },
  ): Promise<{ seq: number; resumeAfterSeq: number }> {
    const slot = this.#streams.get(stream);
    if (!slot) {
      throw PassageError.invalid([{ field: 'stream', description: `one of ${[...this.#streams.keys()].join(', ')}` }]);
    }
    return this.#serially(async () => {
      const seen = slot.gap;
      if (slot.state !== 'stopped' || !seen) {
        throw new PassageError('failed_precondition', `stream ${stream} is not stopped at a gap (it is ${slot.state})`);
      }
      const info = await this.#jsm!.streams.info(stream).catch((error: unknown) => {
        throw new PassageError('unavailable', `cannot read stream ${stream} now: ${(error as Error).message}`);
      });
      const extent = extentOf(info);
      const gap: StreamGap = { ...seen, firstSeq: firstAvailable(extent), lastSeq: extent.lastSeq };
      if (
        (expected.lastStoredSeq !== 0 && expected.lastStoredSeq !== gap.lastStoredSeq) ||
        (expected.firstSeq !== 0 && expected.firstSeq !== gap.firstSeq)
      ) {
        throw new PassageError('failed_precondition', `the gap is not the one given: now ${describeGap(gap)}`);
      }
      const resumeAfterSeq = gap.firstSeq - 1;
      const { seq } = await this.#options.ingest.recordGap(gap, {
        id: randomUUID(),
        at: new Date(),
        actor,
        resumeAfterSeq,
      });
      this.#options.log.warn(
        { stream, entrySeq: seq, lastStoredSeq: gap.lastStoredSeq, resumeAfterSeq },
        'stream gap acknowledged and written to the audit log; reading the stream again',
      );
      slot.gap = undefined;
      slot.state = 'opening';
      slot.detail = '';
      this.#announceStopped();
      this.#toOpen.add(stream);
      this.#wake?.();
      return { seq, resumeAfterSeq };
    });
  }

  #serially<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#exclusive.then(run);
    this.#exclusive = next.catch(() => undefined);
    return next;
  }

  /** Looks at a stream against the log, then reads it from the stored position, or stops it at a gap. */
  #open(name: string): Promise<void> {
    const slot = this.#streams.get(name)!;
    const { ingest, log } = this.#options;
    return this.#serially(async () => {
      if (!this.#running) return;
      try {
        const head = await ingest.streamHead(name);
        const info = await this.#jsm!.streams.info(name);
        const extent = extentOf(info);
        if (slot.gap && head.position === slot.gap.lastStoredSeq) {
          // Not acknowledged yet: a stream that has since grown past the position stays stopped.
          slot.gap = { ...slot.gap, firstSeq: firstAvailable(extent), lastSeq: extent.lastSeq };
          slot.state = 'stopped';
          slot.detail = describeGap(slot.gap);
          return;
        }
        const gap = findGap(name, head.position, extent, await this.#atStored(name, head, extent));
        if (gap) {
          slot.gap = { ...gap, detectedAt: new Date() };
          slot.state = 'stopped';
          slot.detail = describeGap(gap);
          log.error(
            {
              stream: name,
              reason: gap.reason,
              lastStoredSeq: gap.lastStoredSeq,
              firstSeq: gap.firstSeq,
              lastSeq: gap.lastSeq,
            },
            `audit ingest of stream ${name} stopped: ${slot.detail}; nothing more is read from it until an administrator runs: passage audit acknowledge-gap --stream ${name}`,
          );
          this.#announceStopped();
          return;
        }
        slot.gap = undefined;
        if (!this.#running) return;
        slot.feed = await this.#openFeed(name, head.position, info.created);
        slot.state = 'reading';
        slot.detail = '';
        this.#announceStopped();
      } catch (error) {
        slot.state = 'waiting';
        slot.detail = `cannot read the stream now: ${(error as Error).message}`;
        log.warn({ stream: name, err: error }, 'cannot open the stream feed; looking again shortly');
      }
    });
  }

  /** Whether the stream's message at the stored position is the event the log holds there. */
  async #atStored(name: string, head: StreamHead, extent: StreamExtent): Promise<AtStoredPosition> {
    if (head.position === 0 || head.position < firstAvailable(extent) || head.position > extent.lastSeq)
      return 'unknown';
    if (!head.eventId && !head.payload) return 'unknown';
    const message = await this.#jsm!.streams.getMessage(name, { seq: head.position });
    if (!message) return 'unknown';
    if (head.payload) return head.payload.equals(Buffer.from(message.data)) ? 'same' : 'different';
    try {
      return decodeEnvelope(message.data).id.toLowerCase() === head.eventId ? 'same' : 'different';
    } catch {
      return 'different';
    }
  }

  async #openFeed(name: string, position: number, created: string): Promise<Feed> {
    const { nats, topology, areas, batchMax, log } = this.#options;
    const area = areas.find((a) => topology.stream(a).name === name)!;
    // Ephemeral: it lives as long as this process reads it, and a restart makes a new one.
    const info = await this.#jsm!.consumers.add(name, {
      // Named: the filter is then part of the request, which the audit service's NATS user is allowed.
      name: ephemeralName('audit'),
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
      await jetstream(nats).consumers.get(name, info.name)
    ).consume({
      max_messages: batchMax,
      // A vanished stream or consumer ends the feed, and the stream is looked at again.
      abort_on_missing_resource: true,
    });
    const feed: Feed = {
      stream: name,
      consumer: info.name,
      messages,
      created,
      reading: Promise.resolve(),
      lastRead: position,
      closing: false,
    };
    feed.reading = (async () => {
      try {
        for await (const message of messages) {
          feed.lastRead = message.seq;
          this.#queue.push(message);
          this.#wake?.();
        }
      } catch (error) {
        if (!feed.closing) log.warn({ stream: name, err: error }, 'the stream feed ended; looking at the stream again');
      }
      if (!feed.closing && this.#running) this.#lookAgainAt(name, feed);
    })();
    return feed;
  }

  /** A feed that may be reading a stream that is no longer the one it opened: close it, look again. */
  #lookAgainAt(name: string, feed: Feed): void {
    const slot = this.#streams.get(name)!;
    if (slot.feed !== feed) return;
    const again = () => {
      slot.state = 'opening';
      this.#toOpen.add(name);
      this.#wake?.();
    };
    void this.#closeFeed(slot).then(again, (error: unknown) => {
      this.#options.log.warn({ stream: name, err: error }, 'could not close the stream feed cleanly');
      again();
    });
  }

  async #closeFeed(slot: StreamSlot): Promise<void> {
    const feed = slot.feed;
    if (!feed) return;
    slot.feed = undefined;
    feed.closing = true;
    await feed.messages.close();
    await feed.reading;
    await this.#jsm!.consumers.delete(feed.stream, feed.consumer).catch(() => false);
  }

  /**
   * The periodic look: a stream recreated, cut below what was read, or whose first event is
   * past the next one expected closes its feed and is looked at against the log; a stream
   * waiting or stopped is looked at again (another instance may have acknowledged its gap).
   */
  async #lookAgain(): Promise<void> {
    if (!this.#running) return;
    for (const slot of this.#streams.values()) {
      const feed = slot.feed;
      if (!feed) {
        if (slot.state === 'waiting' || slot.state === 'stopped') {
          this.#toOpen.add(slot.name);
          this.#wake?.();
        }
        continue;
      }
      const info = await this.#jsm!.streams.info(slot.name).catch(() => undefined);
      const extent = info && extentOf(info);
      if (
        !info ||
        !extent ||
        info.created !== feed.created ||
        extent.lastSeq < feed.lastRead ||
        firstAvailable(extent) > feed.lastRead + 1
      ) {
        this.#lookAgainAt(slot.name, feed);
      }
    }
  }

  #announceStopped(): void {
    const gaps = [...this.#streams.values()].flatMap((slot) =>
      slot.state === 'stopped' && slot.gap ? [slot.gap] : [],
    );
    const key = gaps.map((gap) => gap.stream).join(',');
    if (key === this.#stoppedKey) return;
    this.#stoppedKey = key;
    this.#options.onStopped?.(gaps);
  }

  /** After a failed batch: drop what was read and start again from the end of the log. */
  async #reopen(): Promise<void> {
    const reading = [...this.#streams.values()].filter((slot) => slot.feed);
    await Promise.all(reading.map((slot) => this.#closeFeed(slot)));
    this.#queue = [];
    for (const slot of reading) {
      slot.state = 'opening';
      this.#toOpen.add(slot.name);
    }
  }

  async #write(): Promise<void> {
    const { ingest, topology, batchMax, log, onBatch } = this.#options;
    const retryDelayMs = this.#options.retryDelayMs ?? 1000;
    while (this.#running || this.#queue.length > 0) {
      if (this.#running) {
        // A stream is looked at once the events already read from it are in the log.
        const ready = [...this.#toOpen].filter((name) => !this.#queue.some((msg) => msg.info.stream === name));
        if (ready.length > 0) {
          for (const name of ready) this.#toOpen.delete(name);
          await Promise.all(ready.map((name) => this.#open(name)));
          continue;
        }
      }
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
      const traced = traceBatch(batch);
      try {
        const { appended } = await context.with(traced.context, () => ingest.record(incoming, parked));
        for (const msg of batch) msg.ack();
        traced.end();
        for (const item of parked) {
          log.warn({ subject: item.subject, streamSeq: item.streamSeq, error: item.error }, 'event parked');
        }
        const now = Date.now();
        onBatch?.(
          appended,
          incoming.map((event) => now - event.receivedAt.getTime()),
        );
      } catch (error) {
        traced.end(error);
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

/**
 * The spans of one appended batch (ADR 32): each event gets a consumer span continuing the
 * trace its traceparent header names, so a hand-off's trace ends in the audit log; the batch's
 * database work runs in an `audit append` span under the first event's, linked to all of them.
 */
function traceBatch(batch: readonly JsMsg[]): {
  context: ReturnType<typeof context.active>;
  end: (error?: unknown) => void;
} {
  const events: Span[] = batch.map((msg) =>
    tracer.startSpan(
      `process ${msg.subject}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.consumer.group.name': 'audit',
          'messaging.destination.name': msg.subject,
          'messaging.message.id': msg.headers?.get('Nats-Msg-Id') ?? '',
        },
      },
      contextFromHeaders(msg.headers),
    ),
  );
  const first = trace.setSpan(context.active(), events[0]!);
  const append = tracer.startSpan(
    'audit append',
    {
      attributes: { 'messaging.batch.message_count': batch.length },
      links: events.map((span) => ({ context: span.spanContext() })),
    },
    first,
  );
  return {
    context: trace.setSpan(first, append),
    end: (error?: unknown) => {
      for (const span of [append, ...events]) {
        if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
        span.end();
      }
    },
  };
}

function extentOf(info: StreamInfo): StreamExtent {
  return { firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, messages: info.state.messages };
}
