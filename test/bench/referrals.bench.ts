// `pnpm bench:referrals`: the hand-off under load, against the three services each in its
// own process (as `pnpm start` runs them), with the ceilings measured in the same run on
// the same machine. Prints figures; asserts nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { TokenIssuer, demoUsers } from '@passage/auth';
import { consent as cpb, referrals as pb } from '@passage/contracts';
import { SqlSubjectKeyStore, keyStoreSchema, newKekSetting } from '@passage/crypto';
import { beginAndLock, findIdempotencyKey, recordSend, recordSendValues } from '@passage/referrals/testing';
import { formatReference } from '@passage/vocabulary';
import { Topology, connectNats, createEnvelope, decodeEnvelope, encodeEnvelope } from '@passage/events';
import { bearerMetadata, callUnary } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import {
  createTestDatabase,
  createTestNats,
  runScript,
  sparePort,
  waitForServing,
  waitUntil,
  type ScriptProcess,
} from '@passage/testing';
import { CpuMeter } from './cpu-meter.ts';
import { reportTarget } from './summary.ts';

type Referral = Parameters<typeof recordSendValues>[0]['referral'];

const seconds = Number(process.env['BENCH_SECONDS'] ?? 30);
const clients = Number(process.env['BENCH_CLIENTS'] ?? 8);
const paceSeconds = Number(process.env['BENCH_PACE_SECONDS'] ?? 10);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { p50: at(50), p99: at(99) };
}

const db = await createTestDatabase('benchreferrals');
// BENCH_NATS_NAMESPACE: publish where another benchmark listens (the audit benchmark's ingest lag).
const natsScratch = process.env['BENCH_NATS_NAMESPACE']
  ? { ...(await createTestNats('benchreferrals')), namespace: process.env['BENCH_NATS_NAMESPACE'] }
  : await createTestNats('benchreferrals');
const tokenSeed = randomBytes(32);
const issuer = new TokenIssuer('bench', tokenSeed);
const common = {
  DATABASE_URL: db.url,
  NATS_URL: natsScratch.url,
  NATS_NAMESPACE: natsScratch.namespace,
  LOG_LEVEL: 'warn',
  PASSAGE_ENV: 'development',
  PASSAGE_KEK: newKekSetting('bench'),
  AUTH_PUBLIC_KEYS: issuer.publicKeySetting,
  RECEIPT_SIGNING_KEY: `bench:${randomBytes(32).toString('base64')}`,
};
const ports = { directory: await sparePort(), consent: await sparePort(), referrals: await sparePort() };
const gatewayPort = await sparePort();
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
const demoPassword = 'passage-bench';
const serviceDir = (name: string) => fileURLToPath(new URL(`../../services/${name}/`, import.meta.url));
const processes: ScriptProcess[] = [];
// BENCH_PROFILE_DIR=/some/dir writes a V8 CPU profile of each service there (<dir>/<service>/).
const profile = process.env['BENCH_PROFILE_DIR'];
async function start(name: keyof typeof ports, env: Record<string, string>): Promise<void> {
  processes.push(
    // Over mutual TLS, as deployed.
    runScript(
      'src/main.ts',
      {
        ...common,
        ...testTls(name).env,
        GRPC_PORT: String(ports[name]),
        ...(profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profile}/${name}` } : {}),
        ...env,
      },
      {
        cwd: serviceDir(name),
      },
    ),
  );
  await waitForServing(ports[name], 30_000, testTls().clientCredentials);
}

const sql = new pg.Client({ connectionString: db.url });
const nc = await connectNats({ NATS_URL: natsScratch.url, PASSAGE_ENV: 'development' }, 'bench');
try {
  await start('directory', { DIRECTORY_SEED: 'ontario' });
  await start('consent', {});
  await start('referrals', {
    DIRECTORY_ADDRESS: `127.0.0.1:${ports.directory}`,
    CONSENT_ADDRESS: `127.0.0.1:${ports.consent}`,
  });
  await sql.connect();
  while ((await sql.query<{ n: number }>('select count(*)::int as n from consent.agencies')).rows[0]!.n < 10)
    await sleep(50);

  const consentClient = new cpb.ConsentServiceClient(`127.0.0.1:${ports.consent}`, testTls().clientCredentials);
  const officer = bearerMetadata(issuer.issue(demoUsers['crisis-counsellor']!, 3600));
  // Many people, as in life: sends for one person serialise (consent changes must not race
  // them), so a benchmark of one subject would measure that lock, not the service.
  const subjects: string[] = [];
  for (let i = 0; i < 64; i++) {
    const { subjectRef } = await callUnary(
      consentClient.grant.bind(consentClient),
      {
        idempotencyKey: randomUUID(),
        subjectRef: '',
        method: cpb.CaptureMethod.CAPTURE_METHOD_VERBAL,
        interpreterLanguage: '',
        language: 'en',
        expiresAt: new Date(Date.now() + 86_400_000),
        scopes: [
          {
            id: '',
            recipientAgencyIds: ['london-coalition'],
            recipientKinds: [],
            purposes: ['referral'],
            categories: ['needs', 'safe_contact'],
            doNotContact: false,
            revokedAt: undefined,
          },
        ],
        receiptName: '',
        notes: '',
      },
      officer,
    );
    subjects.push(subjectRef);
  }
  let nextSubject = 0;
  consentClient.close();

  const request = (): pb.SendRequest => ({
    idempotencyKey: randomUUID(),
    subjectRef: subjects[nextSubject++ % subjects.length]!,
    fromAgency: 'ontario-ht-crisis-line',
    toAgency: 'london-coalition',
    priority: pb.Priority.PRIORITY_STANDARD,
    needs: ['counselling'],
    language: 'en',
    interpreterNeeded: false,
    packet: [
      { category: 'needs', content: 'Synthetic: counselling and a safe place to stay', withheld: false },
      { category: 'safe_contact', content: 'Synthetic: text after 18:00', withheld: false },
    ],
  });
  const senders = Array.from(
    { length: clients },
    () => new pb.ReferralServiceClient(`127.0.0.1:${ports.referrals}`, testTls().clientCredentials),
  );
  // A refused or failed Send is counted by its code and named at the end, not fatal: a figure
  // from a run with failures says so.
  const failures = new Map<string, number>();
  const send = (client: pb.ReferralServiceClient) =>
    callUnary(client.send.bind(client), request(), officer).then(
      () => true,
      (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        const key = `${String(code)}: ${(error as Error).message}`.slice(0, 160);
        failures.set(key, (failures.get(key) ?? 0) + 1);
        return false;
      },
    );
  for (let i = 0; i < 100; i++) await send(senders[0]!); // warm-up

  // 1. Throughput: N clients, each sending back to back. CPU is counted from the first send
  //    until the relay has published the last one.
  const meter = new CpuMeter({
    pids: Object.fromEntries(
      processes.map((p, i) => [`${['directory', 'consent', 'referrals'][i]} service`, p.child.pid!]),
    ),
    commands: { postgres: 'postgres', 'nats-server': 'nats-server' },
  });
  const sendBefore = meter.snapshot();
  const sendLatencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const began = performance.now();
  await Promise.all(
    senders.map(async (client) => {
      while (performance.now() < deadline) {
        const t = performance.now();
        if (await send(client)) sendLatencies.push(performance.now() - t);
      }
    }),
  );
  const sendsPerSecond = sendLatencies.length / ((performance.now() - began) / 1000);
  const sendLatency = percentiles(sendLatencies);
  while (
    (await sql.query<{ n: number }>('select count(*)::int as n from referrals.outbox where published_at is null'))
      .rows[0]!.n > 0
  ) {
    await sleep(100);
  }
  const sendCpu = meter.perUnit(sendBefore, meter.snapshot(), sendLatencies.length);

  // The gateway, as `pnpm start` runs it (its own process, development settings, the demo
  // users), for the live feed below. It starts once the Sends are measured: it is not on a
  // Send's path, and the ceiling's services are the three that are. The live feed needs
  // neither the audit nor the escalation service: not running here, the gateway reports them
  // down and serves on.
  processes.push(
    runScript(
      'src/main.ts',
      {
        ...common,
        ...testTls('gateway').env,
        SERVICE_TOKEN_KEY: `bench:${tokenSeed.toString('base64')}`,
        HTTP_PORT: String(gatewayPort),
        DIRECTORY_ADDRESS: `127.0.0.1:${ports.directory}`,
        CONSENT_ADDRESS: `127.0.0.1:${ports.consent}`,
        REFERRALS_ADDRESS: `127.0.0.1:${ports.referrals}`,
        AUDIT_ADDRESS: '127.0.0.1:9',
        ESCALATION_ADDRESS: '127.0.0.1:9',
        DEMO_USERS: 'on',
        DEMO_PASSWORD: demoPassword,
        CONSOLE_DIR: '',
      },
      { cwd: serviceDir('gateway') },
    ),
  );
  const gatewayProcess = processes.at(-1)!;
  await waitUntil(async () => {
    if (gatewayProcess.child.exitCode !== null) throw new Error(`the gateway exited: ${gatewayProcess.output()}`);
    return (await fetch(`${gatewayUrl}/readyz`).catch(() => undefined))?.status === 200;
  }, 60_000);

  // 2. Hand-off notification at a steady half of the send rate just reached (a rate the
  //    machine can carry, so the figure is the notification path, not saturation): the commit
  //    → London's durable inbound consumer, and → London's live feed in the gateway.
  const paceRate = Number(process.env['BENCH_PACE_RATE'] ?? Math.max(1, Math.round(sendsPerSecond / 2)));
  const topology = new Topology(natsScratch.namespace);
  const jsm = await jetstreamManager(nc);
  const referralStream = topology.stream('referral').name;
  // The gateway's notifications consumer takes every referral event of the throughput phase:
  // the paced phase starts once it has caught up, not on top of its backlog.
  await waitUntil(async () => {
    const info = await jsm.consumers.info(referralStream, 'gateway-notifications');
    return info.num_pending + info.num_ack_pending === 0;
  }, 120_000);
  await jsm.consumers.add(referralStream, {
    durable_name: 'london-inbound',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    filter_subject: topology.referralsTo('london-coalition'),
  });
  // Each event's receipt, by event id (= outbox row id), to the sub-millisecond on the wall clock.
  const notifications: number[] = [];
  const receivedAt = new Map<string, number>();
  const referralOfEvent = new Map<string, string>();
  const inbound = await (
    await jetstream(nc).consumers.get(referralStream, 'london-inbound')
  ).consume({ max_messages: 1000 });
  const reading = (async () => {
    for await (const message of inbound) {
      const envelope = decodeEnvelope(message.data);
      if (envelope.type === 'referral.v1.sent') {
        const now = performance.timeOrigin + performance.now();
        receivedAt.set(envelope.id, now);
        referralOfEvent.set(envelope.id, envelope.referralId);
        notifications.push(now - envelope.occurredAt!.getTime());
      }
      message.ack();
    }
  })();
  // The same hand-off on the gateway's live feed (GET /api/events, server-sent events), as
  // London's intake worker's console has it open: the commit (as above, by the referral the
  // feed's JSON names) → the event read here off the stream.
  const signIn = await fetch(`${gatewayUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'london-intake', password: demoPassword }),
  });
  if (signIn.status !== 201) throw new Error(`london-intake could not sign in: ${await signIn.text()}`);
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  const feedAbort = new AbortController();
  // The response's headers come once the feed's consumers exist: nothing sent after is missed.
  const feedResponse = await fetch(`${gatewayUrl}/api/events`, {
    headers: { cookie, accept: 'text/event-stream' },
    signal: feedAbort.signal,
  });
  if (feedResponse.status !== 200 || !feedResponse.body)
    throw new Error(`the live feed did not open: ${feedResponse.status} ${await feedResponse.text()}`);
  const feedArrivals = new Map<string, number>();
  let feedFailed: unknown;
  const feedReading = (async () => {
    let buffered = '';
    try {
      for await (const chunk of feedResponse.body!.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = event
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice('data: '.length))
            .join('\n');
          if (!data) continue;
          const { type, direction, referralId } = JSON.parse(data) as {
            type: string;
            direction: string;
            referralId: string;
          };
          if (type === 'referral.v1.sent' && direction === 'inbound')
            feedArrivals.set(referralId, performance.timeOrigin + performance.now());
        }
      }
    } catch (error) {
      if (!feedAbort.signal.aborted) feedFailed = error;
    }
  })();
  const paced: Promise<boolean>[] = [];
  const paceStart = performance.now();
  for (let i = 0; i < paceRate * paceSeconds; i++) {
    paced.push(send(senders[i % clients]!));
    const wait = paceStart + ((i + 1) * 1000) / paceRate - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const pacedSent = (await Promise.all(paced)).filter(Boolean).length;
  while (notifications.length < pacedSent) await sleep(20);
  await inbound.close();
  await reading;
  // From the commit: the outbox row is stamped by the statement the commit travels with.
  const written = await sql.query<{ id: string; at: string }>(
    `select id, extract(epoch from created_at) * 1000 as at from referrals.outbox where id = any($1::uuid[])`,
    [[...receivedAt.keys()]],
  );
  const notification = percentiles(written.rows.map((row) => receivedAt.get(row.id)! - Number(row.at)));
  const fromSentAt = percentiles(notifications);
  await waitUntil(() => {
    if (feedFailed !== undefined) return Promise.reject(new Error('the live feed failed', { cause: feedFailed }));
    return Promise.resolve(feedArrivals.size >= pacedSent);
  }, 60_000).catch((error: unknown) => {
    feedAbort.abort();
    throw new Error(`the live feed carried ${feedArrivals.size} of ${pacedSent} sent referrals`, {
      cause: error,
    });
  });
  feedAbort.abort();
  await feedReading;
  // The feed names the referral: its commit is its sent event's outbox row's stamp.
  const committedAt = new Map(written.rows.map((row) => [referralOfEvent.get(row.id)!, Number(row.at)]));
  const feedNotification = percentiles(
    [...feedArrivals].flatMap(([referralId, at]) => {
      const committed = committedAt.get(referralId);
      return committed === undefined ? [] : [at - committed];
    }),
  );
  for (const client of senders) client.close();
  // The services stop here: the ceilings are Postgres's and JetStream's alone.
  for (const child of processes.splice(0).reverse()) {
    child.child.kill('SIGTERM');
    await child.exited();
  }

  // 3. Ceiling: a Send's own statements (the service's prepared statements, imported)
  //    straight through pg at the same concurrency: the idempotency look-up, then begin, the
  //    person's lock and reference number, the data key from the key store (its own
  //    connection, as in the service), the one statement that writes the Send, commit.
  const pool = new pg.Pool({ connectionString: db.url, max: clients });
  const keyPool = new pg.Pool({ connectionString: db.url, max: clients });
  const keys = new SqlSubjectKeyStore(keyPool, keyStoreSchema('referrals'));
  const [sample] = (
    await sql.query<{ result: Referral }>(
      `select result from referrals.idempotency_keys where command = 'send' and agency_id = 'ontario-ht-crisis-line' limit 1`,
    )
  ).rows;
  if (!sample) throw new Error('no Send was recorded to model the ceiling on');
  const shapeDeadline = performance.now() + 10_000;
  let transactions = 0;
  const shapeTopology = new Topology(natsScratch.namespace);
  const shapeBefore = meter.snapshot();
  const shapeBegan = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = await pool.connect();
      try {
        while (performance.now() < shapeDeadline) {
          const subject = subjects[(c + transactions) % subjects.length]!;
          const key = randomUUID();
          await client.query({ ...findIdempotencyKey, values: ['ontario-ht-crisis-line', key] });
          const opened = (await client.query(beginAndLock(subject))) as unknown as pg.QueryResult<{ n: string }>[];
          const rows = opened[1]!.rows;
          await keys.get(subject);
          const referral = {
            ...sample.result,
            id: randomUUID(),
            subjectRef: subject,
            reference: formatReference(Number(rows[0]!.n)),
            sentAt: new Date(),
            acknowledgeDueAt: new Date(),
            acceptDueAt: new Date(),
          } as Referral;
          const transition = {
            from: '',
            to: 'sent',
            event: 'sent',
            actor: referral.sentBy,
            at: referral.sentAt,
            reason: '',
          };
          const values = recordSendValues(
            {
              referral,
              packet: referral.categories.map((category) => ({ category, sealed: randomBytes(80) })),
              transition,
              idempotency: { agencyId: 'ontario-ht-crisis-line', key, command: 'send', requestHash: 'h' },
            } as Parameters<typeof recordSendValues>[0],
            shapeTopology,
          );
          await client.query(recordSend(values, true));
          transactions++;
        }
      } finally {
        client.release();
      }
    }),
  );
  const pgPerSecond = transactions / ((performance.now() - shapeBegan) / 1000);
  const shapeCpu = meter.perUnit(shapeBefore, meter.snapshot(), transactions);
  await pool.end();
  await keyPool.end();

  // 4. Ceiling: raw JetStream publish → consume at the same 200/s.
  const raw = jetstream(nc);
  const rawSubject = topology.referral('bench-from', 'bench-to', 'raw');
  await jsm.consumers.add(referralStream, {
    durable_name: 'raw-bench',
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.New,
    filter_subject: rawSubject,
  });
  // Publisher and consumer share this process, so the round trip is timed to the microsecond.
  const rawLatencies: number[] = [];
  const rawSentAt = new Map<string, number>();
  const rawMessages = await (await raw.consumers.get(referralStream, 'raw-bench')).consume({ max_messages: 1000 });
  const rawReading = (async () => {
    for await (const message of rawMessages) {
      const sent = rawSentAt.get(decodeEnvelope(message.data).id);
      if (sent !== undefined) rawLatencies.push(performance.now() - sent);
    }
  })();
  const rawStart = performance.now();
  const rawCount = paceRate * 5;
  for (let i = 0; i < rawCount; i++) {
    const envelope = createEnvelope({
      type: 'referral.v1.raw',
      payload: { $case: 'subjectErased', value: { erasedAt: new Date() } },
    });
    rawSentAt.set(envelope.id, performance.now());
    void raw.publish(rawSubject, encodeEnvelope(envelope), { msgID: envelope.id });
    const wait = rawStart + ((i + 1) * 1000) / paceRate - performance.now();
    if (wait > 0) await sleep(wait);
  }
  while (rawLatencies.length < rawCount) await sleep(20);
  await rawMessages.close();
  await rawReading;
  const rawRound = percentiles(rawLatencies);

  const ms = (n: number) => n.toFixed(1);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
  console.log(
    `services: directory, consent, referrals, each its own process, ${clients} concurrent clients for ${seconds} s; then the gateway (its own process, for the live feed; audit and escalation not started)`,
  );
  console.log('');
  console.log('| measure | value |');
  console.log('|---|---:|');
  console.log(`| Send throughput (sends/s) | ${sendsPerSecond.toFixed(0)} |`);
  console.log(`| Send latency p50 / p99 (ms) | ${ms(sendLatency.p50)} / ${ms(sendLatency.p99)} |`);
  console.log(
    `| hand-off notification, commit → London's consumer, p50 / p99 at ${paceRate} sends/s (ms) | ${ms(notification.p50)} / ${ms(notification.p99)} |`,
  );
  console.log(
    `| the same from sent_at, before the Send's transaction, p50 / p99 (ms) | ${ms(fromSentAt.p50)} / ${ms(fromSentAt.p99)} |`,
  );
  console.log(
    `| hand-off notification, commit → London's live feed in the gateway, p50 / p99 (ms) | ${ms(feedNotification.p50)} / ${ms(feedNotification.p99)} |`,
  );
  console.log(`| ceiling: the Send transaction shape through pg (tx/s) | ${pgPerSecond.toFixed(0)} |`);
  console.log(
    `| ceiling: raw JetStream publish → consume p50 / p99 at ${paceRate}/s (ms) | ${ms(rawRound.p50)} / ${ms(rawRound.p99)} |`,
  );
  console.log('');
  console.log(
    "CPU per Send (ms, user + system, the throughput phase until the relay has published the last), by process; the ceiling's per transaction beside it (the services stopped):",
  );
  console.log('');
  console.log('| process | per Send | of which kernel | per ceiling transaction | of which kernel |');
  console.log('|---|---:|---:|---:|---:|');
  for (const { group, ms: perSend, systemMs } of sendCpu) {
    const shape = shapeCpu.find((row) => row.group === group);
    console.log(
      `| ${group} | ${perSend.toFixed(2)} | ${systemMs.toFixed(2)} | ${shape ? shape.ms.toFixed(2) : ''} | ${shape ? shape.systemMs.toFixed(2) : ''} |`,
    );
  }
  console.log('');
  for (const [failure, count] of failures) console.log(`failed sends: ${count} × ${failure}`);
  reportTarget({
    bench: 'referrals',
    measure: 'Send throughput ÷ the pg ceiling (the same statements)',
    value: sendsPerSecond,
    unit: 'sends/s',
    target: '≥ 60 %',
    ratio: sendsPerSecond / pgPerSecond,
    met: sendsPerSecond / pgPerSecond >= 0.6,
  });
  reportTarget({
    bench: 'referrals',
    measure: 'hand-off notification p99 ÷ raw JetStream p99, at half the send rate',
    value: notification.p99,
    unit: 'ms',
    target: '≤ 3×',
    ratio: notification.p99 / rawRound.p99,
    met: notification.p99 / rawRound.p99 <= 3,
  });
  reportTarget({
    bench: 'referrals',
    measure: 'live feed notification p99 ÷ raw JetStream p99, at half the send rate',
    value: feedNotification.p99,
    unit: 'ms',
    target: '≤ 3×',
    ratio: feedNotification.p99 / rawRound.p99,
    met: feedNotification.p99 / rawRound.p99 <= 3,
  });
  console.log('| target | value |');
  console.log('|---|---:|');
  console.log(`| sends/s ÷ pg ceiling (target ≥ 60 %) | ${((100 * sendsPerSecond) / pgPerSecond).toFixed(0)} % |`);
  console.log(
    `| notification p99 ÷ raw JetStream p99 (target ≤ 3×) | ${(notification.p99 / rawRound.p99).toFixed(1)}× |`,
  );
  console.log(
    `| live feed notification p99 ÷ raw JetStream p99 (target ≤ 3×) | ${(feedNotification.p99 / rawRound.p99).toFixed(1)}× |`,
  );
} finally {
  for (const child of processes.reverse()) {
    child.child.kill('SIGTERM');
    await child.exited();
  }
  await nc.drain();
  await sql.end().catch(() => undefined);
  await natsScratch.cleanup();
  await db.drop();
}
