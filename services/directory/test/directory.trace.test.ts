import { afterAll, beforeAll, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { directory as pb } from '@passage/contracts';
import { IdempotentConsumer, Topology } from '@passage/events';
import { bearerMetadata, callUnary, createLogger, openDatabase, type MikroORM } from '@passage/platform';
import { finishedSpans, plaintextCredentials } from '@passage/testing';
import { directoryMigrations } from '../migrations/index.ts';
import { ontarioAgencies } from '../src/seed/ontario.ts';
import { agencyToWire } from '../src/adapters/grpc/mapping.ts';
import { startTestDirectory, testAdminToken, type TestDirectory } from './support.ts';

const log = createLogger('trace-test', 'silent');
let directory: TestDirectory;
let orm: MikroORM;
let bus: NatsConnection;

beforeAll(async () => {
  directory = await startTestDirectory('trace');
  orm = await openDatabase({
    url: directory.db.url,
    schema: 'directory',
    entities: [],
    migrations: directoryMigrations,
    poolMax: 2,
  });
  bus = await connect({ servers: directory.nats.url });
});

afterAll(async () => {
  await bus?.close();
  await orm?.close(true);
  await directory?.stop();
});

it('one trace spans the gRPC call, the database transaction, the publish and the consumer', async () => {
  const topology = new Topology(directory.nats.namespace);
  let done!: () => void;
  const consumed = new Promise<void>((resolve) => (done = resolve));
  const consumer = new IdempotentConsumer({
    name: 'trace-watcher',
    stream: topology.stream('directory').name,
    filterSubject: topology.everything('directory'),
    nats: bus,
    orm,
    schema: 'directory',
    log,
    handle: async (_event, em) => {
      await em.execute('select 1');
    },
    onSettled: () => done(),
  });
  await consumer.start();

  const client = new pb.DirectoryServiceClient(directory.service.address, plaintextCredentials());
  const listing = ontarioAgencies.find((a) => a.id === 'pact-ottawa')!;
  await callUnary(
    client.upsertAgency.bind(client),
    { agency: agencyToWire({ ...listing, version: 0 }) },
    bearerMetadata(testAdminToken),
  );
  await consumed;
  await consumer.stop();
  client.close();

  const spans = finishedSpans();
  const server = spans.find((s) => s.kind === SpanKind.SERVER && s.name.includes('DirectoryService/UpsertAgency'));
  expect(server, `spans seen: ${spans.map((s) => s.name).join(', ')}`).toBeDefined();
  const traceId = server!.spanContext().traceId;
  const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
  const names = inTrace.map((s) => s.name);

  const sql = (s: (typeof inTrace)[number]): string => (s.attributes['db.query.text'] as string | undefined) ?? '';
  // The transaction: the agency row and its outbox row, between one begin and one commit.
  expect(inTrace.map(sql).filter(Boolean)).toEqual(
    expect.arrayContaining([
      'begin',
      'commit',
      expect.stringMatching(/^insert into "directory"."agencies"/),
      expect.stringMatching(/insert into "directory".outbox/),
    ]),
  );
  const publish = inTrace.find((s) => s.kind === SpanKind.PRODUCER && s.name.startsWith('publish '));
  const process = inTrace.find((s) => s.kind === SpanKind.CONSUMER && s.name.startsWith('process '));
  expect(publish, `spans in trace: ${names.join(', ')}`).toBeDefined();
  expect(process, `spans in trace: ${names.join(', ')}`).toBeDefined();
  // The consumer's span is the publish span's child: the trace crosses the bus.
  expect(process!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId);
  expect(process!.spanContext().traceId).toBe(traceId);
  // No request body or SQL parameter reached a span.
  const attributes = JSON.stringify(inTrace.map((s) => s.attributes));
  expect(attributes).not.toContain(listing.contact.email);
});
