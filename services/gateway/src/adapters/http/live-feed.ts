import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeEnvelope, ephemeralName, type Area, type Envelope, type Topology } from '@passage/events';
import { PassageError, untraced, type Logger } from '@passage/platform';
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
 * What one feed follows: filter subjects on one stream (one consumer each, so it runs on NATS
 * 2.9), and how an event becomes the thin JSON the browser gets — ids, agencies, states, never
 * the person. The event id carries every filter's stream position, joined by "-": a reconnect
 * with Last-Event-ID resumes each exactly after what was delivered.
 */
interface FeedKind {
  readonly area: Area;
  readonly event: string;
  readonly filters: readonly string[];
  /** The event's data, or undefined to move the position on without sending anything. */
  render(envelope: Envelope, filter: number): Record<string, unknown> | undefined;
}

/**
 * Server-sent events. `stream` is one signed-in agency's referral feed: its inbound
 * (`referral.v1.*.<agency>.>`) and outbound (`referral.v1.<agency>.*.>`) hand-offs.
 * `oversight` is the auditors' and administrators' feed of consent scopes that let police
 * read (`consent.v1.police_access`, ADR 22), across the network. Both count against the
 * session's five feeds and end at sign-out, at a lock and when the session expires.
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

  /** The agency's referral feed. */
  stream(request: FastifyRequest, reply: FastifyReply, session: FeedSession): Promise<void> {
    return this.#counted(request, reply, session, {
      area: 'referral',
      event: 'referral',
      filters: [this.#topology.referralsTo(session.agencyId), this.#topology.referralsFrom(session.agencyId)],
      render: (envelope, filter) => {
        const changed = envelope.payload?.$case === 'referralChanged' ? envelope.payload.value : undefined;
        // A message posted (referral.v1.<from>.<to>.message_posted): its id only, never its words.
        const posted = envelope.payload?.$case === 'messagePosted' ? envelope.payload.value : undefined;
        return {
          type: envelope.type,
          direction: filter === 0 ? 'inbound' : 'outbound',
          referralId: envelope.referralId,
          fromAgency: envelope.fromAgency,
          toAgency: envelope.toAgency,
          priority: envelope.priority,
          state: changed?.state ?? '',
          version: changed?.version ?? 0,
          ...(posted ? { messageId: posted.messageId, authorAgency: posted.authorAgency } : {}),
          occurredAt: envelope.occurredAt?.toISOString() ?? '',
        };
      },
    });
  }

  /** Oversight: every scope that lets police read, as it is proposed, confirmed or granted. The caller has checked the role. */
  oversight(request: FastifyRequest, reply: FastifyReply, session: FeedSession): Promise<void> {
    return this.#counted(request, reply, session, {
      area: 'consent',
      event: 'police_access',
      filters: [this.#topology.consent('police_access')],
      render: (envelope) => {
        if (envelope.payload?.$case !== 'policeAccess') return undefined;
        const access = envelope.payload.value;
        return {
          type: envelope.type,
          consentId: access.consentId,
          scopeId: access.scopeId,
          state: access.state,
          policeAgencyIds: access.policeAgencyIds,
          allPolice: access.allPolice,
          categories: access.categories,
          recordedByAgency: access.recordedByAgency,
          recordedAt: access.recordedAt?.toISOString() ?? '',
          actorAgency: envelope.actor?.agency ?? '',
          actorRole: envelope.actor?.role ?? '',
          occurredAt: envelope.occurredAt?.toISOString() ?? '',
        };
      },
    });
  }

  async #counted(request: FastifyRequest, reply: FastifyReply, session: FeedSession, kind: FeedKind): Promise<void> {
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
      await this.#stream(request, reply, session, kind, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  async #stream(
    request: FastifyRequest,
    reply: FastifyReply,
    session: FeedSession,
    kind: FeedKind,
    release: () => void,
  ): Promise<void> {
    const stream = this.#topology.stream(kind.area).name;
    const jsm = await jetstreamManager(this.#nats);
    const last = (await jsm.streams.info(stream)).state.last_seq;
    const header = String(request.headers['last-event-id'] ?? '');
    const resume = header ? header.split('-') : [];
    if (
      header &&
      (resume.length !== kind.filters.length ||
        resume.some((position) => !/^\d{1,15}$/.test(position) || Number(position) > last))
    ) {
      throw PassageError.invalid([{ field: 'Last-Event-ID', description: 'the id of an event this feed sent' }]);
    }
    const positions = kind.filters.map((_, i) => (header ? Number(resume[i]) : last));

    // The consumers first: if NATS refuses one, the caller gets a problem, not an empty stream.
    const feeds: { filter: number; name: string; messages?: ConsumerMessages }[] = [];
    const removeConsumers = () =>
      Promise.all(feeds.map((feed) => jsm.consumers.delete(stream, feed.name).catch(() => false)));
    try {
      for (const [filter, subject] of kind.filters.entries()) {
        const info = await jsm.consumers.add(stream, {
          // Named: the filter is then part of the request, which the gateway's NATS user is allowed.
          name: ephemeralName('gateway'),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: positions[filter]! + 1,
          filter_subject: subject,
          inactive_threshold: 30_000_000_000,
          max_deliver: 1,
        });
        feeds.push({ filter, name: info.name });
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
        // A heartbeat is no request: its session check makes no span under the feed's (ADR 32).
        void untraced(() => session.stillValid()).then(
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
          positions[feed.filter] = message.seq;
          message.ack();
          const id = `id: ${positions.join('-')}\n`;
          // An event on two filters (a referral an agency sends itself) goes once, but the id moves on.
          if (sent.has(message.seq)) {
            raw.write(`${id}\n`);
            continue;
          }
          sent.add(message.seq);
          if (sent.size > 10_000) sent.clear();
          try {
            const data = kind.render(decodeEnvelope(message.data), feed.filter);
            raw.write(data ? `${id}event: ${kind.event}\ndata: ${JSON.stringify(data)}\n\n` : `${id}\n`);
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
