import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { createLogger } from '@passage/platform';
import { createTestDatabase, createTestNats, type TestDatabase, type TestNats } from '@passage/testing';
import { Pruner, ensureStreams, eventTablePruning, resumeMarginMs } from '../src/index.ts';
import { labConsumer, labSchema, openLab, type Lab } from './fixtures/lab.ts';

// Pruning against the real Postgres, with the clock moved instead of waited for.
let db: TestDatabase;
let nats: TestNats;
let lab: Lab;
const day = 86_400_000;
const log = createLogger('prune-test', 'silent');

beforeAll(async () => {
  db = await createTestDatabase('prune');
  nats = await createTestNats('prune');
  lab = await openLab(db.url, nats.url, nats.namespace);
  await ensureStreams(lab.nats, lab.topology.allStreams());
});

afterAll(async () => {
  await lab?.close();
  await nats?.cleanup();
  await db?.drop();
});

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return lab.orm.em.fork().execute<T[]>(text, params);
}

async function count(table: string): Promise<number> {
  const [row] = await sql<{ n: number }>(`select count(*)::int as n from "${labSchema}".${table}`);
  return row!.n;
}

/** Outbox rows published at `publishedAt` (null: not yet), and inbox rows processed at `processedAt`. */
async function seed(rows: number, publishedAt: Date | null, processedAt: Date): Promise<void> {
  await sql(
    `insert into "${labSchema}".outbox (id, subject, payload, created_at, published_at)
     select gen_random_uuid(), 'lab', '\\x00', ?::timestamptz, ?::timestamptz from generate_series(1, ?)`,
    [processedAt, publishedAt, rows],
  );
  await sql(
    `insert into "${labSchema}".inbox (consumer, event_id, processed_at)
     select 'lab', gen_random_uuid(), ?::timestamptz from generate_series(1, ?)`,
    [processedAt, rows],
  );
}

describe('pruner', () => {
  it('deletes published outbox rows and old inbox rows in batches, keeping the rest', async () => {
    const now = new Date('2027-06-01T12:00:00Z');
    await sql(`truncate "${labSchema}".outbox, "${labSchema}".inbox`);
    await seed(7, new Date(now.getTime() - 8 * day), new Date(now.getTime() - 31 * day)); // both past
    await seed(3, null, new Date(now.getTime() - 40 * day)); // outbox unpublished: kept; inbox past
    await seed(4, new Date(now.getTime() - 6 * day), new Date(now.getTime() - 29 * day)); // both kept
    expect(await count('outbox')).toBe(14);

    const pruner = new Pruner({
      databaseUrl: db.url,
      schema: labSchema,
      tasks: eventTablePruning(labSchema, { outboxMs: 7 * day, inboxMs: 30 * day }),
      batchSize: 2,
      now: () => now,
      log,
    });
    try {
      const report = await pruner.pruneOnce();
      expect(report).toEqual({ leader: true, deleted: { outbox: 7, inbox: 10 } });
      expect(await count('outbox')).toBe(7);
      expect(await count('inbox')).toBe(4);
      const [unpublished] = await sql<{ n: number }>(
        `select count(*)::int as n from "${labSchema}".outbox where published_at is null`,
      );
      expect(unpublished!.n).toBe(3);
      // Nothing more is old enough: a second round deletes nothing.
      expect((await pruner.pruneOnce()).deleted).toEqual({ outbox: 0, inbox: 0 });
    } finally {
      await pruner.stop();
    }
  });

  it('elects one pruner per schema: a second stands by until the first lets go', async () => {
    const tasks = eventTablePruning(labSchema);
    const first = new Pruner({ databaseUrl: db.url, schema: labSchema, tasks, log });
    const second = new Pruner({ databaseUrl: db.url, schema: labSchema, tasks, log });
    try {
      expect((await first.pruneOnce()).leader).toBe(true);
      expect(await second.pruneOnce()).toEqual({ leader: false, deleted: {} });
      await first.stop();
      expect((await second.pruneOnce()).leader).toBe(true);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  it('a durable consumer created again starts a margin before the oldest event its inbox still holds', async () => {
    const oldest = new Date('2027-01-10T08:00:00Z');
    await sql(`insert into "${labSchema}".inbox (consumer, event_id, processed_at) values (?, gen_random_uuid(), ?)`, [
      'recreated',
      oldest,
    ]);
    const consumer = labConsumer(lab, { name: 'recreated' });
    await consumer.start();
    try {
      const jsm = await jetstreamManager(lab.nats);
      const info = await jsm.consumers.info(lab.topology.stream('directory').name, 'recreated');
      expect(info.config.deliver_policy).toBe('by_start_time');
      expect(new Date(info.config.opt_start_time!).getTime()).toBe(oldest.getTime() - resumeMarginMs);
    } finally {
      await consumer.stop();
    }
    // One that never applied anything reads its stream from the start.
    const fresh = labConsumer(lab, { name: 'never-applied' });
    await fresh.start();
    try {
      const jsm = await jetstreamManager(lab.nats);
      const info = await jsm.consumers.info(lab.topology.stream('directory').name, 'never-applied');
      expect(info.config.deliver_policy).toBe('all');
    } finally {
      await fresh.stop();
    }
  });
});
