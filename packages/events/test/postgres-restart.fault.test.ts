import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '@passage/platform';
import {
  createTestNats,
  startPrivatePostgres,
  waitFor,
  waitUntil,
  type PrivateServer,
  type TestNats,
} from '@passage/testing';
import { OutboxRelay, ensureStreams } from '../src/index.ts';
import { commitEvents, effectCounts, labConsumer, labSchema, openLab, type Lab } from './fixtures/lab.ts';

// Postgres crashes (immediate shutdown) under a running relay and consumer, on a cluster
// this test owns: after it comes back, every committed event is published and applied once.
let postgres: PrivateServer;
let nats: TestNats;
let lab: Lab;

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  nats = await createTestNats('pgrestart');
  lab = await openLab(postgres.url, nats.url, nats.namespace);
  await ensureStreams(lab.nats, lab.topology.allStreams());
});

afterAll(async () => {
  await lab?.close().catch(() => undefined);
  await nats?.cleanup();
  await postgres?.dispose();
});

async function unpublished(): Promise<number> {
  const [row] = await lab.orm.em
    .fork()
    .execute<{ n: string }[]>(`select count(*) as n from "${labSchema}".outbox where published_at is null`);
  return Number(row!.n);
}

it('publishes and applies every committed event once across a Postgres crash', async () => {
  const relay = new OutboxRelay({
    databaseUrl: postgres.url,
    schema: labSchema,
    nats: lab.nats,
    log: createLogger('pg-restart', 'silent'),
    pollIntervalMs: 200,
  });
  const consumer = labConsumer(lab, { name: 'through-crash', retryDelayMs: 100 });
  await relay.start();
  await consumer.start();
  try {
    const before = await commitEvents(lab, 20);
    await waitFor(
      () => effectCounts(lab, 'through-crash'),
      (counts) => before.every((id) => counts.has(id)),
    );

    await postgres.kill();
    // Down until the lab's own pool finds it gone, then back.
    await waitUntil(() =>
      lab.orm.em
        .fork()
        .execute('select 1')
        .then(
          () => false,
          () => true,
        ),
    );
    await postgres.restart();

    // The ORM pool and the relay's own connection both find their way back.
    const after = await waitFor(
      () => commitEvents(lab, 20).catch(() => [] as string[]),
      (ids) => ids.length === 20,
      30_000,
    );
    await waitFor(unpublished, (n) => n === 0, 30_000);
    const counts = await waitFor(
      () => effectCounts(lab, 'through-crash').catch(() => new Map<string, number>()),
      (map) => [...before, ...after].every((id) => map.has(id)),
      30_000,
    );
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  } finally {
    await consumer.stop();
    await relay.stop();
  }
});
