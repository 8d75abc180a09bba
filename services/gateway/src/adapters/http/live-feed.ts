import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeEnvelope, type Topology } from '@passage/events';
import { PassageError, type Logger } from '@passage/platform';
import type { SessionEndListener } from '../../app/ports.ts';

export interface FeedSession {
  /** The session the feed belongs to; at most a few feeds each. */
  readonly key: string;
  /** Whose session it is: a lock of the account ends its feeds. */
  readonly userId: string;
  readonly agencyId: string;
  readonly expiresAt: Date;
  /**
   * Asked on every heartbeat: a session ended elsewhere (another gateway) ends the feed
   * within a heartbeat. Here, sign-out and a lock end it at once (sessionsEnded).
   */
  stillValid(): Promise<boolean>;
}

interface OpenFeed {
  readonly session: FeedSession;
  close(): Promise<void>;
}

const feedsPerSession = 5;
const heartbeatMs = 15_000;

/**
 * Server-sent events for one signed-in agency: its inbound feed (`referral.v1.*.<agency>.>`)
 * and its outbound feed (`referral.v1.<agency>.*.>`), one filter subject per consumer so it
 * runs on NATS 2.9. The event id carries both feeds' stream positions ("<in>-<out>"): a
 * reconnect with Last-Event-ID resumes each feed exactly after what was delivered, so
 * nothing is missed or repeated. Only the thin event goes out — ids, agencies, state.
 */
export class LiveFeed implements SessionEndListener {
  readonly #nats: NatsConnection;
  readonly #topology: Topology;
  readonly #log: Logger;
  readonly #open = new Set<OpenFeed>();
  /** Feeds each session holds or is opening: counted before the first await, so parallel opens each count. */
  readonly #perSession = new Map<string, number>();

  constructor(nats: NatsConnection, topology: Topology, log: Logger) {
    this.#nats = nats;
    this.#topology = topology;
    this.#log = log;
  }

  async stream(request: FastifyRequest, reply: FastifyReply, session: FeedSession): Promise<void> {
    const open = this.#perSession.get(session.key) ?? 0;
    if (open >= feedsPerSession) {
      throw new PassageError('resource_exhausted', `at most ${feedsPerSession} live feeds at once: close another tab`);
    }
    this.#perSession.set(session.key, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.#perSession.get(session.key) ?? 1) - 1;
      if (left > 0) this.#perSession.set(session.key, left);
      else this.#perSession.delete(session.key);
    };
    try {
      await this.#stream(request, reply, session, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  async #stream(
    request: FastifyRequest,
    reply: FastifyReply,
    session: FeedSession,
    release: () => void,
  ): Promise<void> {
    const stream = this.#topology.stream('referral').name;
    const jsm = await jetstreamManager(this.#nats);
    const last = (await jsm.streams.info(stream)).state.last_seq;
    const header = String(request.headers['last-event-id'] ?? '');
    const resume = /^(\d{1,15})-(\d{1,15})$/.exec(header);
    if (header && (!resume || Number(resume[1]) > last || Number(resume[2]) > last)) {
      throw PassageError.invalid([{ field: 'Last-Event-ID', description: 'the id of an event this feed sent' }]);
    }
    const positions = resume ? { in: Number(resume[1]), out: Number(resume[2]) } : { in: last, out: last };

    // The consumers first: if NATS refuses one, the caller gets a problem, not an empty stream.
    const feeds: { side: 'in' | 'out'; name: string; messages?: ConsumerMessages }[] = [];
    const removeConsumers = () =>
      Promise.all(feeds.map((feed) => jsm.consumers.delete(stream, feed.name).catch(() => false)));
    try {
      for (const side of ['in', 'out'] as const) {
        const info = await jsm.consumers.add(stream, {
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: positions[side] + 1,
          filter_subject:
            side === 'in'
              ? this.#topology.referralsTo(session.agencyId)
              : this.#topology.referralsFrom(session.agencyId),
          inactive_threshold: 30_000_000_000,
          max_deliver: 1,
        });
        feeds.push({ side, name: info.name });
      }
    } catch (error) {
      await removeConsumers();
      throw error;
    }

    reply.hijack();
    const raw = reply.raw;
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearInterval(timer);
      this.#open.delete(entry);
      release();
      for (const feed of feeds) await feed.messages?.close().catch(() => undefined);
      await removeConsumers();
      raw.end();
    };
    const entry: OpenFeed = { session, close };
    this.#open.add(entry);
    // A sign-out between the session check and here found no feed to end: look once more.
    void session.stillValid().then(
      async (valid) => {
        if (!valid) await close();
      },
      () => undefined,
    );
    request.raw.on('close', () => void close());
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': passage live feed\nretry: 2000\n\n');
    timers.push(
      setInterval(() => {
        void session.stillValid().then(
          async (valid) => {
            if (valid) raw.write(': still here\n\n');
            else await close();
          },
          () => undefined,
        );
      }, heartbeatMs),
      setTimeout(() => void close(), Math.max(0, session.expiresAt.getTime() - Date.now())),
    );

    const sent = new Set<number>();
    for (const feed of feeds) {
      if (closed) break;
      const messages = await (
        await jetstream(this.#nats).consumers.get(stream, feed.name)
      ).consume({ max_messages: 100 });
      feed.messages = messages;
      void (async () => {
        for await (const message of messages) {
          positions[feed.side] = message.seq;
          message.ack();
          const id = `id: ${positions.in}-${positions.out}\n`;
          // A referral an agency sends itself is on both feeds: once is enough, but the id moves on.
          if (sent.has(message.seq)) {
            raw.write(`${id}\n`);
            continue;
          }
          sent.add(message.seq);
          if (sent.size > 10_000) sent.clear();
          try {
            const envelope = decodeEnvelope(message.data);
            const changed = envelope.payload?.$case === 'referralChanged' ? envelope.payload.value : undefined;
            const event = {
              type: envelope.type,
              direction: feed.side === 'in' ? 'inbound' : 'outbound',
              referralId: envelope.referralId,
              fromAgency: envelope.fromAgency,
              toAgency: envelope.toAgency,
              priority: envelope.priority,
              state: changed?.state ?? '',
              version: changed?.version ?? 0,
              occurredAt: envelope.occurredAt?.toISOString() ?? '',
            };
            raw.write(`${id}event: referral\ndata: ${JSON.stringify(event)}\n\n`);
          } catch (error) {
            this.#log.warn({ err: error, seq: message.seq }, 'undecodable event skipped in the live feed');
            raw.write(`${id}\n`);
          }
        }
      })();
    }
  }

  /** Sign-out or a lock: the feeds of that session, or of every session of that account, end now. */
  sessionsEnded(ended: { readonly sessionId: string } | { readonly userId: string }): void {
    for (const feed of this.#open) {
      const ends = 'sessionId' in ended ? feed.session.key === ended.sessionId : feed.session.userId === ended.userId;
      if (ends) void feed.close();
    }
  }

  /** Ends every open feed (shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((feed) => feed.close()));
  }
}
