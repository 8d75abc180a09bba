import { afterAll, beforeAll, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { createLogger } from '@passage/platform';
import {
  createTestDatabase,
  createTestNats,
  finishedSpans,
  waitFor,
  type TestDatabase,
  type TestNats,
} from '@passage/testing';
import { OutboxRelay, ensureStreams, type Outcome } from '../src/index.ts';
import { commitEvents, labConsumer, labSchema, openLab, recordEffect, type Lab } from './fixtures/lab.ts';

// "tracing" project: the SDK with an in-memory exporter. An event written inside a trace is
// consumed in that trace (the relay carries traceparent in the NATS headers), and a delivery
// whose handler failed shows as a failed consumer span (docs/adr/0032-tracing.md).
let db: TestDatabase;
let nats: TestNats;
let lab: Lab;
let relay: OutboxRelay;

beforeAll(async () => {
  db = await createTestDatabase('consumertrace');
  nats = await createTestNats('consumertrace');
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

it('continues the writer’s trace, and marks the delivery whose handler failed', async () => {
  const [eventId] = await trace
    .getTracer('test')
    .startActiveSpan('request', (span) => commitEvents(lab, 1).finally(() => span.end()));
  const request = finishedSpans().find((s) => s.name === 'request')!;
  const outcomes: Outcome[] = [];
  let failures = 0;
  const consumer = labConsumer(lab, {
    name: 'traced-retry',
    retryDelayMs: 10,
    handle: async (event, em) => {
      if (event.envelope.id === eventId && failures++ === 0) throw new Error('first delivery fails');
      await recordEffect(em, event.envelope.id, 'traced-retry');
    },
    onSettled: (id, outcome) => {
      if (id === eventId) outcomes.push(outcome);
    },
  });
  await consumer.start();
  try {
    await waitFor(
      () => Promise.resolve(outcomes),
      (seen) => seen.includes('applied'),
      30_000,
    );
  } finally {
    await consumer.stop();
  }
  expect(outcomes).toEqual(['retry', 'applied']);
  const deliveries = finishedSpans().filter(
    (s) =>
      s.kind === SpanKind.CONSUMER &&
      s.attributes['messaging.consumer.group.name'] === 'traced-retry' &&
      s.spanContext().traceId === request.spanContext().traceId,
  );
  expect(deliveries.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
});
