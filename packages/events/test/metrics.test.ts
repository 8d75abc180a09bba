import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, metrics, parsePrometheusText, type Sample } from '@passage/platform';
import { createTestDatabase, createTestNats, waitFor, type TestDatabase, type TestNats } from '@passage/testing';
import { OutboxRelay, ensureStreams, observeOutbox } from '../src/index.ts';
import { commitEvents, labConsumer, labSchema, openLab, type Lab } from './fixtures/lab.ts';

// Each outbox and consumer metric moves when its cause happens, read from a real scrape of the
// process's metrics against the real Postgres and NATS.

const log = createLogger('metrics-test', 'silent');
let db: TestDatabase;
let nats: TestNats;
let lab: Lab;

beforeAll(async () => {
  db = await createTestDatabase('events-metrics');
  nats = await createTestNats('events_metrics');
  lab = await openLab(db.url, nats.url, nats.namespace);
  await ensureStreams(lab.nats, lab.topology.allStreams());
});

afterAll(async () => {
  await lab?.close();
  await nats?.cleanup();
  await db?.drop();
});

async function scrape(): Promise<Sample[]> {
  return parsePrometheusText(await metrics().scrape());
}

/** The value of the one sample with that name and those labels; undefined when absent. */
function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([key, v]) => sample.labels[key] === v),
  )?.value;
}

describe('outbox metrics', () => {
  it('counts unpublished rows and their age while no relay runs, and drops to 0 once one publishes', async () => {
    const unobserve = observeOutbox(lab.orm, labSchema);
    try {
      const labels = { schema: labSchema };
      expect(value(await scrape(), 'passage_outbox_backlog', labels)).toBe(0);
      await commitEvents(lab, 7);
      const backlog = await scrape();
      expect(value(backlog, 'passage_outbox_backlog', labels)).toBe(7);
      expect(value(backlog, 'passage_outbox_oldest_unpublished_age_seconds', labels)).toBeGreaterThanOrEqual(0);
      const relay = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log });
      await relay.start();
      try {
        await waitFor(scrape, (samples) => value(samples, 'passage_outbox_backlog', labels) === 0, 30_000);
        expect(value(await scrape(), 'passage_outbox_oldest_unpublished_age_seconds', labels)).toBe(0);
      } finally {
        await relay.stop();
      }
    } finally {
      unobserve();
    }
  });
});

describe('consumer metrics', () => {
  it('shows what NATS holds back for a durable while its handler is stuck, and the parked events', async () => {
    // Published before the consumer starts: it pulls 100 at a time, so with its handler stuck on
    // the first, NATS still holds the rest undelivered (num_pending).
    const relay = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log });
    await relay.start();
    const ids = await commitEvents(lab, 130);
    await waitFor(
      async () =>
        lab.orm.em
          .fork()
          .execute<{ n: number }[]>(`select count(*)::int as n from "${labSchema}".outbox where published_at is null`),
      (rows) => rows[0]?.n === 0,
      30_000,
    );
    await relay.stop();

    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const failing = new Set(ids.slice(0, 2));
    const name = 'metrics-lag';
    const consumer = labConsumer(lab, {
      name,
      maxAttempts: 1,
      handle: async (event) => {
        await stuck;
        if (failing.has(event.envelope.id)) throw new Error('synthetic handler failure');
      },
    });
    await consumer.start();
    try {
      const durable = { durable: name };
      const behind = await waitFor(scrape, (samples) => (value(samples, 'passage_consumer_pending', durable) ?? 0) > 0);
      expect(value(behind, 'passage_consumer_pending', durable)).toBeGreaterThanOrEqual(30);
      expect(value(behind, 'passage_consumer_ack_pending', durable)).toBeGreaterThan(0);
      expect(value(behind, 'passage_parked_events', durable)).toBe(0);

      release();
      // Everything applied but the two that fail once (maxAttempts 1): parked, and counted.
      const after = await waitFor(
        scrape,
        (samples) =>
          value(samples, 'passage_consumer_pending', durable) === 0 &&
          value(samples, 'passage_consumer_ack_pending', durable) === 0 &&
          value(samples, 'passage_parked_events', durable) === 2,
        60_000,
      );
      expect(value(after, 'passage_consumer_events_total', { durable: name, outcome: 'parked' })).toBe(2);
      expect(
        value(after, 'passage_consumer_events_total', { durable: name, outcome: 'applied' }),
      ).toBeGreaterThanOrEqual(128);
    } finally {
      release();
      await consumer.stop();
    }
  });

  it('counts each failed delivery that will be retried', async () => {
    const [id] = await commitAndPublish(1);
    let attempts = 0;
    const name = 'metrics-retry';
    const consumer = labConsumer(lab, {
      name,
      maxAttempts: 3,
      retryDelayMs: 50,
      handle: (event) => {
        if (event.envelope.id !== id) return Promise.resolve();
        attempts += 1;
        return attempts < 3 ? Promise.reject(new Error('synthetic transient failure')) : Promise.resolve();
      },
    });
    await consumer.start();
    try {
      // The stream's earlier events are applied too (a new durable reads from the start).
      await waitFor(
        () => Promise.resolve(attempts),
        (n) => n === 3,
        30_000,
      );
      const samples = await scrape();
      expect(value(samples, 'passage_consumer_events_total', { durable: name, outcome: 'retry' })).toBe(2);
      expect(value(samples, 'passage_consumer_events_total', { durable: name, outcome: 'applied' })).toBeGreaterThan(0);
    } finally {
      await consumer.stop();
    }
  });
});

async function commitAndPublish(count: number): Promise<string[]> {
  const relay = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log });
  await relay.start();
  try {
    const ids = await commitEvents(lab, count);
    await waitFor(
      async () =>
        lab.orm.em
          .fork()
          .execute<{ n: number }[]>(`select count(*)::int as n from "${labSchema}".outbox where published_at is null`),
      (rows) => rows[0]?.n === 0,
      30_000,
    );
    return ids;
  } finally {
    await relay.stop();
  }
}
