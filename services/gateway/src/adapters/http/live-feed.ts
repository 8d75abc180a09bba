import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeEnvelope, type Topology } from '@passage/events';
import type { Logger } from '@passage/platform';

/**
 * Server-sent events for one signed-in agency: its inbound feed (`referral.v1.*.<agency>.>`)
 * and its outbound feed (`referral.v1.<agency>.*.>`), one filter subject per consumer so it
 * runs on NATS 2.9. The event id carries both feeds' stream positions ("<in>-<out>"): a
 * reconnect with Last-Event-ID resumes each feed exactly after what was delivered, so
 * nothing is missed or repeated. Only the thin event goes out — ids, agencies, state.
 */
export class LiveFeed {
  readonly #nats: NatsConnection;
  readonly #topology: Topology;
  readonly #log: Logger;
  readonly #open = new Set<() => Promise<void>>();

  constructor(nats: NatsConnection, topology: Topology, log: Logger) {
    this.#nats = nats;
    this.#topology = topology;
    this.#log = log;
  }

  async stream(request: FastifyRequest, reply: FastifyReply, agencyId: string): Promise<void> {
    const resume = /^(\d+)-(\d+)$/.exec(String(request.headers['last-event-id'] ?? ''));
    const positions = { in: Number(resume?.[1] ?? 0), out: Number(resume?.[2] ?? 0) };
    const stream = this.#topology.stream('referral').name;
    const jsm = await jetstreamManager(this.#nats);
    const tail = resume ? 0 : (await jsm.streams.info(stream)).state.last_seq;
    if (!resume) positions.in = positions.out = tail;

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': passage live feed\nretry: 2000\n\n');

    const feeds: { side: 'in' | 'out'; name: string; messages: ConsumerMessages }[] = [];
    const sent = new Set<number>();
    for (const side of ['in', 'out'] as const) {
      const info = await jsm.consumers.add(stream, {
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: positions[side] + 1,
        filter_subject: side === 'in' ? this.#topology.referralsTo(agencyId) : this.#topology.referralsFrom(agencyId),
        inactive_threshold: 30_000_000_000,
        max_deliver: 1,
      });
      const messages = await (
        await jetstream(this.#nats).consumers.get(stream, info.name)
      ).consume({ max_messages: 100 });
      feeds.push({ side, name: info.name, messages });
      void (async () => {
        for await (const message of messages) {
          positions[side] = message.seq;
          message.ack();
          // A referral an agency sends itself is on both feeds: once is enough.
          if (sent.has(message.seq)) continue;
          sent.add(message.seq);
          if (sent.size > 10_000) sent.clear();
          try {
            const envelope = decodeEnvelope(message.data);
            const changed = envelope.payload?.$case === 'referralChanged' ? envelope.payload.value : undefined;
            const event = {
              type: envelope.type,
              direction: side === 'in' ? 'inbound' : 'outbound',
              referralId: envelope.referralId,
              fromAgency: envelope.fromAgency,
              toAgency: envelope.toAgency,
              priority: envelope.priority,
              state: changed?.state ?? '',
              version: changed?.version ?? 0,
              occurredAt: envelope.occurredAt?.toISOString() ?? '',
            };
            raw.write(`id: ${positions.in}-${positions.out}\nevent: referral\ndata: ${JSON.stringify(event)}\n\n`);
          } catch (error) {
            this.#log.warn({ err: error, seq: message.seq }, 'undecodable event skipped in the live feed');
          }
        }
      })();
    }
    const heartbeat = setInterval(() => raw.write(': still here\n\n'), 15_000);
    const close = async (): Promise<void> => {
      clearInterval(heartbeat);
      this.#open.delete(close);
      await Promise.all(feeds.map((feed) => feed.messages.close().catch(() => undefined)));
      await Promise.all(feeds.map((feed) => jsm.consumers.delete(stream, feed.name).catch(() => false)));
      raw.end();
    };
    this.#open.add(close);
    request.raw.on('close', () => void close());
  }

  /** Ends every open feed (shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((close) => close()));
  }
}
