import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { TokenIssuer, demoUsers, verifierFromEnv } from '@passage/auth';
import { ops } from '@passage/contracts';
import { descriptorSet } from '@passage/contracts/descriptor';
import {
  PassageError,
  bearerMetadata,
  callUnary,
  createLogger,
  grpcTransport,
  startGrpcServer,
  type RunningGrpcServer,
} from '@passage/platform';
import { createTestDatabase, createTestNats, waitFor, type TestDatabase, type TestNats } from '@passage/testing';
import {
  OutboxRelay,
  ParkedEvents,
  decodeEnvelope,
  ensureStreams,
  parkedEventsService,
  type EventHandler,
} from '../src/index.ts';
import { commitEvents, effectCounts, labConsumer, labSchema, openLab, recordEffect, type Lab } from './fixtures/lab.ts';

// A parked event listed and replayed through passage.ops.v1.ParkedEventsService, against the
// real Postgres, NATS and a gRPC server: its handler fails, then succeeds.
let db: TestDatabase;
let nats: TestNats;
let lab: Lab;
let relay: OutboxRelay;
let server: RunningGrpcServer;
let client: ops.ParkedEventsServiceClient;
const issuer = new TokenIssuer('parked-test', Buffer.alloc(32, 7));
const log = createLogger('parked-test', process.env['LOG_LEVEL'] ?? 'silent');
let failing = true;

const handle: EventHandler = async (event, em) => {
  if (failing) throw new Error('the directory did not answer');
  await recordEffect(em, event.envelope.id, 'replayable');
};

beforeAll(async () => {
  db = await createTestDatabase('parked');
  nats = await createTestNats('parked');
  lab = await openLab(db.url, nats.url, nats.namespace);
  await ensureStreams(lab.nats, lab.topology.allStreams());
  relay = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log });
  await relay.start();
  const parked = new ParkedEvents({
    service: 'lab',
    orm: lab.orm,
    schema: labSchema,
    topology: lab.topology,
    handlers: { replayable: handle },
  });
  const verifier = verifierFromEnv({ AUTH_PUBLIC_KEYS: issuer.publicKeySetting, PASSAGE_ENV: 'development' });
  const transport = grpcTransport({ PASSAGE_ENV: 'development' }, { warn: () => undefined, info: () => undefined });
  server = await startGrpcServer(
    { services: [parkedEventsService(parked, verifier, log)], descriptorSet: descriptorSet(), log, transport },
    { GRPC_HOST: '127.0.0.1', GRPC_PORT: 0 },
  );
  client = new ops.ParkedEventsServiceClient(server.address, transport.clientCredentials);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(1000);
  await relay?.stop();
  await lab?.close();
  await nats?.cleanup();
  await db?.drop();
});

const admin = () => bearerMetadata(issuer.issue(demoUsers['admin']!));

async function parkedRows(): Promise<Array<{ event_id: string; attempts: number; error: string }>> {
  return lab.orm.em
    .fork()
    .execute(`select event_id, attempts, error from "${labSchema}".parked_events where consumer = 'replayable'`);
}

describe('parked events', () => {
  it('lists a parked event, and replays it: failing again it stays parked, succeeding it is applied once', async () => {
    const consumer = labConsumer(lab, { name: 'replayable', maxAttempts: 2, retryDelayMs: 10, handle });
    await consumer.start();
    let eventId: string;
    try {
      [eventId] = (await commitEvents(lab, 1)) as [string];
      await waitFor(parkedRows, (rows) => rows.some((row) => row.event_id === eventId), 30_000);
    } finally {
      await consumer.stop();
    }

    const { events } = await callUnary(client.list.bind(client), { consumer: '', limit: 0 }, admin());
    expect(events.length).toBeGreaterThan(0);
    const listed = events.find((event) => event.eventId === eventId)!;
    expect(listed).toMatchObject({
      consumer: 'replayable',
      service: 'lab',
      type: 'directory.v1.agency_upserted',
      attempts: 2,
    });
    expect(listed.error).toContain('the directory did not answer');

    // Only administrators.
    const officer = bearerMetadata(issuer.issue(demoUsers['opp-officer']!));
    await expect(callUnary(client.list.bind(client), { consumer: '', limit: 0 }, officer)).rejects.toMatchObject({
      code: 'permission_denied',
    });

    // A replay names its event.
    await expect(callUnary(client.replay.bind(client), { eventId: '', consumer: '' }, admin())).rejects.toMatchObject({
      code: 'invalid_argument',
    });

    // The cause is still there: the replay fails, the event stays parked with the new error and count.
    const again = await callUnary(client.replay.bind(client), { eventId, consumer: '' }, admin());
    expect(again.outcome).toBe('failed');
    expect(again.error).toContain('the directory did not answer');
    const [still] = (await parkedRows()).filter((row) => row.event_id === eventId);
    expect(still!.attempts).toBe(3);
    expect((await effectCounts(lab, 'replayable')).has(eventId)).toBe(false);

    // Fixed: the replay applies it, once, and it leaves parked_events.
    failing = false;
    const applied = await callUnary(client.replay.bind(client), { eventId, consumer: '' }, admin());
    expect(applied.outcome).toBe('applied');
    expect((await effectCounts(lab, 'replayable')).get(eventId)).toBe(1);
    expect((await parkedRows()).some((row) => row.event_id === eventId)).toBe(false);
    await expect(callUnary(client.replay.bind(client), { eventId, consumer: '' }, admin())).rejects.toBeInstanceOf(
      PassageError,
    );

    // Both replays were published on the AUDIT stream: who, which event, what came of it.
    const jsm = await jetstreamManager(lab.nats);
    const stream = lab.topology.stream('audit').name;
    const audited = await waitFor(
      async () => {
        const found = [];
        const info = await jsm.streams.info(stream);
        for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
          const message = await jsm.streams.getMessage(stream, { seq });
          if (message) found.push(decodeEnvelope(message.data));
        }
        return found;
      },
      (found) => found.length >= 2,
      30_000,
    );
    expect(audited.map((envelope) => envelope.id)).toEqual([again.auditEventId, applied.auditEventId]);
    for (const envelope of audited) {
      expect(envelope.type).toBe('audit.v1.parked_event_replayed');
      expect(envelope.actor).toMatchObject({ user: 'admin', role: 'admin' });
    }
    expect(audited.map((envelope) => envelope.payload)).toEqual([
      {
        $case: 'parkedEventReplayed',
        value: { eventId, consumer: 'replayable', service: 'lab', outcome: 'failed', attempts: 3 },
      },
      {
        $case: 'parkedEventReplayed',
        value: { eventId, consumer: 'replayable', service: 'lab', outcome: 'applied', attempts: 4 },
      },
    ]);
  }, 90_000);
});
