import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createLogger } from '@passage/platform';
import {
  createTestDatabase,
  createTestNats,
  runScript,
  type TestDatabase,
  type TestNats,
  waitFor,
} from '@passage/testing';
import { OutboxRelay, createEnvelope, encodeEnvelope, ensureStreams } from '../src/index.ts';
import { commitEvents, effectCounts, labConsumer, labSchema, openLab, type Lab } from './fixtures/lab.ts';

const consumerScript = fileURLToPath(new URL('./fixtures/consumer-process.ts', import.meta.url));

let db: TestDatabase;
let nats: TestNats;
let lab: Lab;
let relay: OutboxRelay;

beforeAll(async () => {
  db = await createTestDatabase('consumer');
  nats = await createTestNats('consumer');
  lab = await openLab(db.url, nats.url, nats.namespace);
  await ensureStreams(lab.nats, lab.topology.allStreams());
  relay = new OutboxRelay({ databaseUrl: db.url, schema: labSchema, nats: lab.nats, log: createLogger('t', 'silent') });
  await relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await lab?.close();
  await nats?.cleanup();
  await db?.drop();
});

function consumerProcess(name: string, mode: string, targetEvent = '') {
  return runScript(consumerScript, {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    NATS_NAMESPACE: nats.namespace,
    CONSUMER_NAME: name,
    MODE: mode,
    ACK_WAIT_MS: '1000',
    TARGET_EVENT: targetEvent,
  });
}

async function parked(consumer: string): Promise<Array<{ event_id: string; attempts: number; error: string }>> {
  return lab.orm.em
    .fork()
    .execute(`select event_id, attempts, error from "${labSchema}".parked_events where consumer = ?`, [consumer]);
}

describe('idempotent consumer', () => {
  it('applies an event exactly once when killed mid-handler and restarted', async () => {
    const [eventId] = await commitEvents(lab, 1);
    const doomed = consumerProcess('killed-mid-handler', 'hang');
    await doomed.waitForLine(new RegExp(`^handling ${eventId}$`));
    await doomed.kill('SIGKILL');
    // The transaction died with the process: no effect, no inbox row.
    expect((await effectCounts(lab, 'killed-mid-handler')).get(eventId!)).toBeUndefined();

    const restarted = consumerProcess('killed-mid-handler', 'normal');
    try {
      await restarted.waitForLine(new RegExp(`^committed ${eventId}$`));
      expect((await effectCounts(lab, 'killed-mid-handler')).get(eventId!)).toBe(1);
    } finally {
      await restarted.kill('SIGTERM');
    }
  });

  it('does not apply an event twice when killed after commit and before ack', async () => {
    const [eventId] = await commitEvents(lab, 1);
    const doomed = consumerProcess('killed-before-ack', 'die-after-commit', eventId);
    await doomed.waitForLine(new RegExp(`^committed ${eventId}$`));
    expect((await doomed.exited()).signal).toBe('SIGKILL');
    expect((await effectCounts(lab, 'killed-before-ack')).get(eventId!)).toBe(1);

    // The unacked message comes back after ack_wait; the inbox absorbs it.
    const restarted = consumerProcess('killed-before-ack', 'normal');
    try {
      await restarted.waitForLine(new RegExp(`^settled ${eventId} duplicate$`));
      expect((await effectCounts(lab, 'killed-before-ack')).get(eventId!)).toBe(1);
    } finally {
      await restarted.kill('SIGTERM');
    }
  });

  it('skips an event republished under another message id', async () => {
    const consumer = labConsumer(lab, { name: 'duplicates' });
    await consumer.start();
    try {
      const envelope = createEnvelope({
        type: 'directory.v1.agency_upserted',
        payload: {
          $case: 'agencyChanged',
          value: {
            agencyId: 'x',
            kind: 'shelter',
            version: 2,
            acceptingReferrals: false,
            source: 'lab',
            nameEn: '',
            nameFr: '',
            region: 'ontario',
            alwaysOpen: false,
            hours: [],
          },
        },
      });
      const js = jetstream(lab.nats);
      const subject = lab.topology.directory('agency_upserted');
      // Two different msg ids defeat JetStream's deduplication; only the inbox stands between.
      await js.publish(subject, encodeEnvelope(envelope), { msgID: `${envelope.id}-a` });
      await js.publish(subject, encodeEnvelope(envelope), { msgID: `${envelope.id}-b` });
      const [marker] = await commitEvents(lab, 1);
      const counts = await waitFor(
        () => effectCounts(lab, 'duplicates'),
        (map) => map.has(marker!),
      );
      expect(counts.get(envelope.id)).toBe(1);
    } finally {
      await consumer.stop();
    }
  });

  it('parks an event that keeps failing, with its error, and goes on with the rest', async () => {
    const [poison, healthy] = await commitEvents(lab, 2);
    const consumer = labConsumer(lab, {
      name: 'parking',
      maxAttempts: 3,
      retryDelayMs: 10,
      handle: async (event, em) => {
        if (event.envelope.id === poison) throw new Error('agency kind not understood');
        await em.execute(`insert into "${labSchema}".effects (event_id, consumer) values (?, 'parking')`, [
          event.envelope.id,
        ]);
      },
    });
    await consumer.start();
    try {
      const rows = await waitFor(
        () => parked('parking'),
        (list) => list.some((row) => row.event_id === poison),
      );
      const row = rows.find((r) => r.event_id === poison)!;
      expect(row.attempts).toBe(3);
      expect(row.error).toContain('agency kind not understood');
      const counts = await waitFor(
        () => effectCounts(lab, 'parking'),
        (map) => map.has(healthy!),
      );
      expect(counts.has(poison!)).toBe(false);
    } finally {
      await consumer.stop();
    }
  });

  it('parks a message that is not an event envelope at once', async () => {
    const consumer = labConsumer(lab, { name: 'garbage' });
    await consumer.start();
    try {
      const js = jetstream(lab.nats);
      await js.publish(lab.topology.directory('agency_upserted'), new Uint8Array([0xff, 0xff, 0xff]), {
        msgID: 'not-an-envelope',
      });
      const rows = await waitFor(
        () => parked('garbage'),
        (list) => list.length > 0,
      );
      expect(rows[0]!.event_id).toBe('not-an-envelope');
      expect(rows[0]!.attempts).toBe(1);
    } finally {
      await consumer.stop();
    }
  });

  it('starts a new consumer at its start time: only what is published from then on', async () => {
    const js = jetstream(lab.nats);
    const subject = lab.topology.directory('agency_upserted');
    const publish = async (): Promise<string> => {
      const envelope = createEnvelope({
        type: 'directory.v1.agency_upserted',
        payload: { $case: 'subjectErased', value: { erasedAt: new Date() } },
      });
      await js.publish(subject, encodeEnvelope(envelope), { msgID: envelope.id });
      return envelope.id;
    };
    const before = await publish();
    const startAt = new Date(Date.now() + 1);
    await waitFor(
      () => Promise.resolve(Date.now()),
      (now) => now > startAt.getTime(),
    );
    const after = await publish();
    const consumer = labConsumer(lab, { name: 'from-now-on', startAt });
    await consumer.start();
    try {
      const counts = await waitFor(
        () => effectCounts(lab, 'from-now-on'),
        (map) => map.has(after),
      );
      expect(counts.get(after)).toBe(1);
      expect(counts.has(before)).toBe(false);
    } finally {
      await consumer.stop();
    }
  });

  it('with one event pending at a time, applies a failing event before the next, in stream order', async () => {
    const [first, second, third] = await commitEvents(lab, 3);
    const ours = new Set([first, second, third]);
    const sequences: number[] = [];
    const consumer = labConsumer(lab, {
      name: 'one-at-a-time',
      maxAckPending: 1,
      retryDelayMs: 20,
      handle: async (event, em) => {
        // The first fails twice: the others wait for it instead of overtaking it.
        if (event.envelope.id === first && event.attempt < 3) throw new Error('not yet');
        if (!ours.has(event.envelope.id)) return; // the stream's earlier events, other tests'
        sequences.push(event.sequence ?? 0);
        await em.execute(`insert into "${labSchema}".effects (event_id, consumer) values (?, 'one-at-a-time')`, [
          event.envelope.id,
        ]);
      },
    });
    await consumer.start();
    try {
      await waitFor(
        () => effectCounts(lab, 'one-at-a-time'),
        (map) => map.has(third!),
      );
      const rows = await lab.orm.em
        .fork()
        .execute<{ event_id: string }[]>(
          `select event_id from "${labSchema}".effects where consumer = 'one-at-a-time' order by n`,
        );
      expect(rows.map((row) => row.event_id)).toEqual([first, second, third]);
      expect(sequences.length).toBe(3);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    } finally {
      await consumer.stop();
    }
  });

  it('creates its durable consumer again when it is deleted under it, and applies what comes next exactly once', async () => {
    const changes: boolean[] = [];
    const consumer = labConsumer(lab, { name: 'deleted-under-it', onHealthChange: (healthy) => changes.push(healthy) });
    await consumer.start();
    try {
      const [first] = await commitEvents(lab, 1);
      await waitFor(
        () => effectCounts(lab, 'deleted-under-it'),
        (counts) => counts.get(first!) === 1,
      );
      // As a NATS node restarted on an empty disk, or an operator, would leave it.
      const jsm = await jetstreamManager(lab.nats);
      await jsm.consumers.delete(lab.topology.stream('directory').name, 'deleted-under-it');
      const [second] = await commitEvents(lab, 1);
      const counts = await waitFor(
        () => effectCounts(lab, 'deleted-under-it'),
        (map) => map.get(second!) === 1,
        60_000,
      );
      // The recreated consumer delivers the stream from its start: the inbox keeps each once.
      expect([...counts.values()].length).toBeGreaterThan(0);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(counts.get(first!)).toBe(1);
      expect(consumer.healthy).toBe(true);
      // The service's readiness was told the feed stopped, and that it flows again.
      expect(changes).toEqual([false, true]);
    } finally {
      await consumer.stop();
    }
  }, 90_000);
});
