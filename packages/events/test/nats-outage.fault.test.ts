import { afterAll, beforeAll, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { createLogger } from '@passage/platform';
import { createTestDatabase, startPrivateNats, type PrivateServer, type TestDatabase, waitFor } from '@passage/testing';
import { OutboxRelay, ensureStreams } from '../src/index.ts';
import { commitEvents, labSchema, openLab, type Lab } from './fixtures/lab.ts';

// A NATS outage against a nats-server this test owns: events committed while it is down
// wait in the outbox and go out, once each, when it is back.
let db: TestDatabase;
let nats: PrivateServer;
let lab: Lab;

beforeAll(async () => {
  db = await createTestDatabase('outage');
  nats = await startPrivateNats();
  lab = await openLab(db.url, nats.url, 'outage');
  await ensureStreams(lab.nats, lab.topology.allStreams());
});

afterAll(async () => {
  await lab?.close();
  await nats?.dispose();
  await db?.drop();
});

async function unpublished(): Promise<{ count: number; attempts: number }> {
  const [row] = await lab.orm.em
    .fork()
    .execute<{ count: string; attempts: string | null }[]>(
      `select count(*) as count, max(attempts) as attempts from "${labSchema}".outbox where published_at is null`,
    );
  return { count: Number(row!.count), attempts: Number(row!.attempts ?? 0) };
}

it('holds events in the outbox through a NATS outage and publishes each once when NATS returns', async () => {
  const relay = new OutboxRelay({
    databaseUrl: db.url,
    schema: labSchema,
    nats: lab.nats,
    log: createLogger('outage', 'silent'),
    pollIntervalMs: 200,
  });
  await relay.start();
  try {
    await commitEvents(lab, 10);
    await waitFor(unpublished, (u) => u.count === 0);

    await nats.kill();
    await commitEvents(lab, 10);
    // PubAcks cannot arrive: the rows stay unpublished and the failures are recorded.
    const during = await waitFor(unpublished, (u) => u.attempts > 0, 30_000);
    expect(during.count).toBe(10);

    await nats.restart();
    await waitFor(unpublished, (u) => u.count === 0, 30_000);
    const jsm = await jetstreamManager(lab.nats);
    expect((await jsm.streams.info(lab.topology.stream('directory').name)).state.messages).toBe(20);
  } finally {
    await relay.stop();
  }
});
