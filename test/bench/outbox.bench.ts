// `pnpm bench:outbox`: what the outbox relay delivers on this machine, beside raw
// JetStream measured in the same run against the same server, and beside the peer a user
// might pick instead, pg-transactional-outbox (npm), draining the same kind of backlog into
// the same JetStream the same way. Prints figures; asserts nothing. Uses DATABASE_URL /
// NATS_URL (or localhost) with a scratch database and namespace.
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
import pg from 'pg';
import {
  DatabaseSetup,
  getDisabledLogger,
  initializeMessageStorage,
  initializePollingMessageListener,
  type PollingListenerConfig,
  type TransactionalLogger,
} from 'pg-transactional-outbox';
import { reportTarget } from './summary.ts';

const schema = 'bench';
const throughputEvents = Number(process.env['BENCH_EVENTS'] ?? 5000);
const latencyEvents = Number(process.env['BENCH_LATENCY_EVENTS'] ?? 1000);
const latencyRatePerSecond = Number(process.env['BENCH_RATE'] ?? 200);
const peerBatch = Number(process.env['BENCH_PEER_BATCH'] ?? 10);
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

/** How many messages JetStream holds on `subject`: every event published, once (Nats-Msg-Id). */
async function storedOn(nc: NatsConnection, stream: string, subject: string): Promise<number> {
  const info = await (await jetstreamManager(nc)).streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

const peerSchema = 'peer';

/**
 * The peer, pg-transactional-outbox 0.5.7, with its polling listener: its table, polling
 * function and indexes as its own DatabaseSetup writes them; the same backlog (each event's
 * envelope bytes, base64 in the JSON payload it stores; the subject in its metadata) written
 * through its own storage function, 100 events per transaction; its listener publishes each
 * event with the PubAck awaited and Nats-Msg-Id = event id, as the relay does. Settings as its
 * README's outbox example (attempt and poison protection off), cleanup off, up to
 * BENCH_PEER_BATCH (10) messages in flight: its handler transactions share a pool of pg's
 * default 10 connections, and on 1,000 events batches of 5, 10, 50 and 200 all measured
 * 48–120 events/s on a loaded machine. Every batch full from the start (its default takes one
 * message a poll for the first polls, a guard against poisonous messages, which is off here).
 * A segment per aggregate: it keeps order per agency, as the relay keeps it per schema; every
 * event of the backlog is of a different agency, so nothing waits on order.
 */
async function peerPath(nc: NatsConnection, topology: Topology, databaseUrl: string) {
  const js = jetstream(nc);
  const stream = topology.stream('directory').name;
  const subject = topology.directory('peer_bench');
  const sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
  try {
    const walLevel = (await sql.query<{ wal_level: string }>('show wal_level')).rows[0]!.wal_level;
    const setup = {
      outboxOrInbox: 'outbox' as const,
      database: '',
      schema: peerSchema,
      table: 'outbox',
      listenerRole: 'postgres',
      nextMessagesName: 'next_outbox_messages',
    };
    await sql.query(DatabaseSetup.dropAndCreateTable(setup));
    await sql.query(DatabaseSetup.createPollingFunction(setup));
    await sql.query(DatabaseSetup.setupPollingIndexes(setup));
    const config: PollingListenerConfig = {
      outboxOrInbox: 'outbox',
      dbListenerConfig: { connectionString: databaseUrl },
      settings: {
        dbSchema: peerSchema,
        dbTable: 'outbox',
        nextMessagesFunctionSchema: peerSchema,
        nextMessagesFunctionName: 'next_outbox_messages',
        nextMessagesBatchSize: peerBatch,
        nextMessagesPollingIntervalInMs: 250,
        enableMaxAttemptsProtection: false,
        enablePoisonousMessageProtection: false,
        messageCleanupIntervalInMs: 0,
      },
    };
    // Quiet, but counting the message attempts that failed (each such message is tried again
    // once the lock its poll took, 5 s by default, has run out).
    let failedAttempts = 0;
    const peerLog: TransactionalLogger = {
      ...getDisabledLogger(),
      warn: (entry: unknown) => {
        if ((entry as { errorCode?: string } | undefined)?.errorCode === 'MESSAGE_HANDLING_FAILED') failedAttempts++;
      },
    };
    const store = initializeMessageStorage(config, peerLog);
    for (let i = 0; i < throughputEvents; i += 100) {
      await sql.query('begin');
      for (let j = i; j < Math.min(i + 100, throughputEvents); j++) {
        const e = envelope(j);
        await store(
          {
            id: e.id,
            aggregateType: 'agency',
            aggregateId: `agency-${j}`,
            messageType: e.type,
            segment: `agency-${j}`,
            payload: { envelope: Buffer.from(encodeEnvelope(e)).toString('base64') },
            metadata: { subject },
          },
          sql,
        );
      }
      await sql.query('commit');
    }
    const start = performance.now();
    const [shutdown] = initializePollingMessageListener(
      config,
      {
        async handle(message) {
          const { envelope: bytes } = message.payload as { envelope: string };
          const { subject: to } = message.metadata as { subject: string };
          await js.publish(to, Buffer.from(bytes, 'base64'), { msgID: message.id });
        },
      },
      peerLog,
      { batchSizeStrategy: () => Promise.resolve(peerBatch) },
    );
    for (;;) {
      const { rows } = await sql.query<{ n: number }>(
        `select count(*)::int as n from ${peerSchema}.outbox where processed_at is null`,
      );
      if (rows[0]!.n === 0) break;
      await sleep(10);
    }
    const peerPerSecond = throughputEvents / ((performance.now() - start) / 1000);
    await shutdown();
    return { peerPerSecond, published: await storedOn(nc, stream, subject), walLevel, failedAttempts };
  } finally {
    await sql.end();
  }
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
  const peer = await peerPath(nc, topology, db.url);
  const f = (n: number) => n.toFixed(1);
  const throughputRatio = relay.relayPerSecond / raw.publishPerSecond;
  const latencyRatio = relay.p99 / raw.p99;
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
  console.log(
    `| peer: pg-transactional-outbox 0.5.7, polling listener (${peerBatch} in flight) | ${peer.peerPerSecond.toFixed(0)} | | |`,
  );
  console.log('');
  console.log('| target | measured | ratio | target | met |');
  console.log('|---|---:|---:|---:|---|');
  console.log(
    `| relay events/s ÷ raw JetStream | ${relay.relayPerSecond.toFixed(0)} / ${raw.publishPerSecond.toFixed(0)} | ${(100 * throughputRatio).toFixed(0)} % | ≥ 80 % | ${throughputRatio >= 0.8 ? 'met' : '**missed**'} |`,
  );
  console.log(
    `| relay p99 ÷ raw JetStream p99 at ${latencyRatePerSecond}/s | ${f(relay.p99)} / ${f(raw.p99)} ms | ${latencyRatio.toFixed(1)}× | ≤ 3× | ${latencyRatio <= 3 ? 'met' : '**missed**'} |`,
  );
  console.log('');
  console.log(
    `relay ÷ pg-transactional-outbox (polling listener), events/s: ${(relay.relayPerSecond / peer.peerPerSecond).toFixed(2)}× ` +
      `(${peer.published} of ${throughputEvents} of the peer's events in JetStream; ` +
      `${peer.failedAttempts} of its message attempts failed and were tried again)`,
  );
  console.log(
    peer.walLevel === 'logical'
      ? "pg-transactional-outbox's logical-replication listener: not measured by this benchmark"
      : `pg-transactional-outbox's logical-replication listener: not measured — it needs wal_level=logical (this server: ${peer.walLevel})`,
  );
  const sizes = `${throughputEvents.toLocaleString('en-CA')} events`;
  reportTarget({
    bench: 'outbox',
    measure: `outbox relay events/s ÷ raw JetStream publish events/s, backlog of ${sizes}`,
    value: relay.relayPerSecond,
    unit: 'events/s',
    target: '≥ 80 %',
    ratio: throughputRatio,
    met: throughputRatio >= 0.8,
  });
  reportTarget({
    bench: 'outbox',
    measure: `outbox relay commit → consumer p99 ÷ raw JetStream p99, ${latencyEvents.toLocaleString('en-CA')} events at ${latencyRatePerSecond}/s`,
    value: relay.p99,
    unit: 'ms',
    target: '≤ 3×',
    ratio: latencyRatio,
    met: latencyRatio <= 3,
  });
} finally {
  await nc.drain();
  await orm.close(true);
  await natsScratch.cleanup();
  await db.drop();
}
