// `pnpm bench:outbox`: what the outbox relay delivers on this machine, beside raw
// JetStream measured in the same run against the same server. Prints figures; asserts
// nothing. Uses DATABASE_URL / NATS_URL (or localhost) with a scratch database and namespace.
import { cpus } from 'node:os';
import { Migration } from '@mikro-orm/migrations';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { createLogger, migrateDatabase, openDatabase, type MikroORM } from '@passage/platform';
import {
  OutboxRelay,
  Topology,
  connectNats,
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  enqueueEvents,
  ensureStreams,
  eventTablesSql,
} from '@passage/events';
import { createTestDatabase, createTestNats } from '@passage/testing';

const schema = 'bench';
const throughputEvents = Number(process.env['BENCH_EVENTS'] ?? 5000);
const latencyEvents = Number(process.env['BENCH_LATENCY_EVENTS'] ?? 1000);
const latencyRatePerSecond = Number(process.env['BENCH_RATE'] ?? 200);
const log = createLogger('bench', 'silent');

class Migration20261128000000Bench extends Migration {
  override up(): void {
    for (const sql of eventTablesSql(schema)) this.addSql(sql);
  }
}

function envelope(i: number) {
  return createEnvelope({
    type: 'directory.v1.agency_upserted',
    payload: {
      $case: 'agencyChanged',
      value: {
        agencyId: `agency-${i}`,
        kind: 'coalition',
        version: i,
        acceptingReferrals: true,
        source: 'bench',
        nameEn: '',
        nameFr: '',
        region: 'ontario',
        alwaysOpen: false,
        hours: [],
      },
    },
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Receives every message on a subject, calling `onMessage` with the receive time. */
async function listen(
  nc: NatsConnection,
  stream: string,
  subject: string,
  name: string,
  onMessage: (msg: JsMsg, at: number) => void,
) {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.None,
    filter_subject: subject,
    deliver_policy: DeliverPolicy.New,
  });
  const messages = await (await jetstream(nc).consumers.get(stream, name)).consume({ max_messages: 1000 });
  void (async () => {
    for await (const msg of messages) onMessage(msg, performance.now());
  })();
  return messages;
}

/**
 * Sends `latencyEvents` events at a steady rate through `send` (which resolves with the
 * instant the event counts as sent) and measures until a consumer on `subject` has each.
 */
async function steadyLatency(
  nc: NatsConnection,
  stream: string,
  subject: string,
  consumerName: string,
  send: (e: ReturnType<typeof envelope>) => Promise<number>,
): Promise<{ p50: number; p99: number }> {
  const receivedAt = new Map<string, number>();
  let allReceived!: () => void;
  const received = new Promise<void>((resolve) => (allReceived = resolve));
  const messages = await listen(nc, stream, subject, consumerName, (msg, at) => {
    receivedAt.set(decodeEnvelope(msg.data).id, at);
    if (receivedAt.size === latencyEvents) allReceived();
  });
  await sleep(200);
  const start = performance.now();
  const sends: Promise<[string, number]>[] = [];
  for (let i = 0; i < latencyEvents; i++) {
    const e = envelope(i);
    sends.push(send(e).then((at) => [e.id, at]));
    const wait = start + ((i + 1) * 1000) / latencyRatePerSecond - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const sentAt = await Promise.all(sends);
  await received;
  await messages.close();
  const latencies = sentAt.map(([id, at]) => receivedAt.get(id)! - at).sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function rawJetStream(nc: NatsConnection, topology: Topology) {
  const js = jetstream(nc);
  const stream = topology.stream('directory').name;
  const subject = topology.directory('raw_bench');
  const payloads = Array.from({ length: throughputEvents }, (_, i) => encodeEnvelope(envelope(i)));

  // Throughput: publish in windows of 200 awaited PubAcks, as the relay does.
  const start = performance.now();
  for (let i = 0; i < payloads.length; i += 200) {
    await Promise.all(
      payloads.slice(i, i + 200).map((p, j) => js.publish(subject, p, { msgID: `raw-${i + j}-${start}` })),
    );
  }
  const publishPerSecond = throughputEvents / ((performance.now() - start) / 1000);

  // Latency at a steady rate: publish → consumer receives.
  const latency = await steadyLatency(nc, stream, subject, 'raw-latency', (e) => {
    const sent = performance.now();
    void js.publish(subject, encodeEnvelope(e), { msgID: e.id });
    return Promise.resolve(sent);
  });
  return { publishPerSecond, ...latency };
}

async function relayPath(orm: MikroORM, nc: NatsConnection, topology: Topology, databaseUrl: string) {
  const stream = topology.stream('directory').name;
  const subject = topology.directory('agency_upserted');

  // Throughput: a backlog of committed events, then the relay drains it.
  for (let i = 0; i < throughputEvents; i += 100) {
    const items = Array.from({ length: Math.min(100, throughputEvents - i) }, (_, j) => ({
      subject,
      envelope: envelope(i + j),
    }));
    await orm.em.fork().transactional((em) => enqueueEvents(em, schema, items));
  }
  const relay = new OutboxRelay({ databaseUrl, schema, nats: nc, log, batchSize: 200 });
  const start = performance.now();
  await relay.start();
  for (;;) {
    const [row] = await orm.em
      .fork()
      .execute<{ n: string }[]>(`select count(*) as n from ${schema}.outbox where published_at is null`);
    if (Number(row!.n) === 0) break;
    await sleep(10);
  }
  const relayPerSecond = throughputEvents / ((performance.now() - start) / 1000);

  // Latency at a steady rate: one event per transaction; commit returns → consumer receives.
  const latency = await steadyLatency(nc, stream, subject, 'relay-latency', async (e) => {
    await orm.em.fork().transactional((em) => enqueueEvents(em, schema, [{ subject, envelope: e }]));
    return performance.now();
  });
  await relay.stop();
  return { relayPerSecond, ...latency };
}

const db = await createTestDatabase('bench');
const natsScratch = await createTestNats('bench');
const benchDatabase = {
  url: db.url,
  schema,
  entities: [],
  migrations: [{ name: 'Migration20261128000000Bench', class: Migration20261128000000Bench }],
  poolMax: 10,
};
await migrateDatabase(benchDatabase);
const orm = await openDatabase(benchDatabase);
const nc = await connectNats({ NATS_URL: natsScratch.url, PASSAGE_ENV: 'development' }, 'bench');
const topology = new Topology(natsScratch.namespace);
await ensureStreams(nc, [topology.stream('directory')]);
try {
  const raw = await rawJetStream(nc, topology);
  const relay = await relayPath(orm, nc, topology, db.url);
  const f = (n: number) => n.toFixed(1);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
  console.log(`events: ${throughputEvents} for throughput, ${latencyEvents} at ${latencyRatePerSecond}/s for latency`);
  console.log('');
  console.log('| path | events/s | p50 latency (ms) | p99 latency (ms) |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| raw JetStream publish → consume | ${raw.publishPerSecond.toFixed(0)} | ${f(raw.p50)} | ${f(raw.p99)} |`,
  );
  console.log(
    `| outbox commit → relay → consume | ${relay.relayPerSecond.toFixed(0)} | ${f(relay.p50)} | ${f(relay.p99)} |`,
  );
} finally {
  await nc.drain();
  await orm.close(true);
  await natsScratch.cleanup();
  await db.drop();
}
