import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { createLogger } from '@passage/platform';
import {
  createTestDatabase,
  createTestNats,
  runScript,
  type TestDatabase,
  type TestNats,
  waitFor,
} from '@passage/testing';
import { OutboxRelay, enqueueEvents, ensureStreams } from '../src/index.ts';
import { agencyEvent, commitEvents, effectCounts, labConsumer, labSchema, openLab, type Lab } from './fixtures/lab.ts';

const relayScript = fileURLToPath(new URL('./fixtures/relay-process.ts', import.meta.url));
const log = createLogger('relay-test', 'silent');
const lateEvent = agencyEvent('agency-late');

let db: TestDatabase;
let nats: TestNats;
let lab: Lab;

beforeAll(async () => {
  db = await createTestDatabase('relay');
  nats = await createTestNats('relay');
  lab = await openLab(db.url, nats.url, nats.namespace);
  await ensureStreams(lab.nats, lab.topology.allStreams());
});

afterAll(async () => {
  await lab?.close();
  await nats?.cleanup();
  await db?.drop();
});

async function streamMessages(): Promise<number> {
  const jsm = await jetstreamManager(lab.nats);
  return (await jsm.streams.info(lab.topology.stream('directory').name)).state.messages;
}

async function unpublished(): Promise<number> {
  const rows = await lab.orm.em
    .fork()
    .execute<{ count: string }[]>(`select count(*) as count from "${labSchema}".outbox where published_at is null`);
  return Number(rows[0]!.count);
}

describe('outbox relay', () => {
  it('publishes every committed event exactly once even when killed between publish and mark', async () => {
    const consumer = labConsumer(lab, { name: 'after-crash' });
    await consumer.start();
    const before = await streamMessages();
    const ids = await commitEvents(lab, 50);

    const doomed = runScript(relayScript, {
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: nats.namespace,
      CRASH_AFTER_PUBLISH: '1',
      BATCH_SIZE: '20',
    });
    await doomed.waitForLine(/^published 20$/);
    expect((await doomed.exited()).signal).toBe('SIGKILL');
    // The crash hit the window: 20 events are on the bus but all 50 rows are still unmarked.
    expect(await unpublished()).toBe(50);
    expect(await streamMessages()).toBe(before + 20);

    const relay = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log, batchSize: 20 });
    await relay.start();
    try {
      await waitFor(unpublished, (n) => n === 0);
      const counts = await waitFor(
        () => effectCounts(lab, 'after-crash'),
        (map) => ids.every((id) => map.has(id)),
      );
      // Republished rows were absorbed by Nats-Msg-Id: the stream holds each event once.
      expect(await streamMessages()).toBe(before + 50);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(counts.size).toBe(50);
    } finally {
      await relay.stop();
      await consumer.stop();
    }
  });

  it('keeps commit order and publishes each event once with two relays running', async () => {
    const first = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log, batchSize: 7 });
    const second = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log, batchSize: 7 });
    await Promise.all([first.start(), second.start()]);
    try {
      const before = await streamMessages();
      const ids: string[] = [];
      for (let round = 0; round < 10; round++) ids.push(...(await commitEvents(lab, 6)));
      await waitFor(unpublished, (n) => n === 0);
      expect(await streamMessages()).toBe(before + ids.length);
      expect([first.isLeader, second.isLeader].filter(Boolean)).toHaveLength(1);

      // Read back what was stored, in stream order.
      const jsm = await jetstreamManager(lab.nats);
      const stream = lab.topology.stream('directory').name;
      const seen: string[] = [];
      for (let seq = before + 1; seq <= before + ids.length; seq++) {
        const message = await jsm.streams.getMessage(stream, { seq });
        seen.push(message!.header.get('Nats-Msg-Id'));
      }
      expect(seen).toEqual(ids);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('publishes a backlog in commit order while it reads each next batch during the PubAcks', async () => {
    const before = await streamMessages();
    const ids = await commitEvents(lab, 45);
    const relay = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log, batchSize: 10 });
    await relay.start();
    try {
      await waitFor(unpublished, (n) => n === 0);
    } finally {
      await relay.stop();
    }
    expect(await streamMessages()).toBe(before + 45);
    const jsm = await jetstreamManager(lab.nats);
    const stream = lab.topology.stream('directory').name;
    const seen: string[] = [];
    for (let seq = before + 1; seq <= before + 45; seq++) {
      seen.push((await jsm.streams.getMessage(stream, { seq }))!.header.get('Nats-Msg-Id'));
    }
    expect(seen.length).toBe(45);
    expect(seen).toEqual(ids);
  });

  it('publishes a row whose transaction commits after later rows were published', async () => {
    const relay = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log, batchSize: 5 });
    await relay.start();
    try {
      await waitFor(unpublished, (n) => n === 0);
      const before = await streamMessages();
      // A transaction takes its outbox sequence number, then waits to commit.
      let commitLate!: () => void;
      const gate = new Promise<void>((resolve) => (commitLate = resolve));
      let wrote!: () => void;
      const written = new Promise<void>((resolve) => (wrote = resolve));
      const late = lab.orm.em.fork().transactional(async (em) => {
        await enqueueEvents(em, labSchema, [
          { subject: lab.topology.directory('agency_upserted'), envelope: lateEvent },
        ]);
        wrote();
        await gate;
      });
      await written;
      // Later rows commit and are published (marked) meanwhile.
      await commitEvents(lab, 12);
      await waitFor(streamMessages, (n) => n === before + 12);
      commitLate();
      await late;
      await waitFor(unpublished, (n) => n === 0);
      expect(await streamMessages()).toBe(before + 13);
    } finally {
      await relay.stop();
    }
  });

  it('wakes on NOTIFY rather than waiting for the poll interval', async () => {
    const relay = new OutboxRelay({
      databaseUrl: db.url,
      schema: labSchema,
      nats: lab.nats,
      log,
      pollIntervalMs: 60_000,
    });
    await relay.start();
    try {
      await waitFor(unpublished, (n) => n === 0);
      await commitEvents(lab, 3);
      // With a one-minute poll interval, only the notification can publish these in time.
      await waitFor(unpublished, (n) => n === 0, 10_000);
    } finally {
      await relay.stop();
    }
  });
});
