import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Topology, decodeEnvelope } from '@passage/events';
import { callUnary } from '@passage/platform';
import { startNetwork, waitUntil, type Network } from '@passage/referrals/testing';
import type { RunningEscalation } from '../src/service.ts';
import { sendReferral, startEscalationIn } from './support.ts';

// Finding 9 of issue 13, deterministically: a referral's `sent` event reaches escalation after
// the steps that followed it (as after a crash, when the unacknowledged `sent` is redelivered
// once the later events have been applied). Real referrals make the events; the test moves
// each `sent` to the end of the stream before escalation first reads it.
let n: Network;
let escalation: RunningEscalation | undefined;

beforeAll(async () => {
  n = await startNetwork('escalationorder');
});

afterAll(async () => {
  await escalation?.shutdown.run();
  await n?.stop();
});

const step = (referralId: string) => ({ idempotencyKey: randomUUID(), referralId, expectedVersion: 0 });

interface TimerRow {
  target: string;
  state: string;
  settled_reason: string | null;
}

async function timersOf(referralId: string): Promise<Record<string, { state: string; reason: string }>> {
  const { rows } = await n.sql.query<TimerRow>(
    'select target, state, settled_reason from escalation.timers where referral_id = $1',
    [referralId],
  );
  return Object.fromEntries(rows.map((row) => [row.target, { state: row.state, reason: row.settled_reason ?? '' }]));
}

it('schedules nothing for a late sent: a closed, withdrawn or declined referral has no pending timer', async () => {
  const r = n.referrals!;
  const closed = (await sendReferral(n)).referralId;
  await callUnary(r.acknowledge.bind(r), step(closed), n.as('london-intake'));
  await callUnary(r.accept.bind(r), step(closed), n.as('london-intake'));
  await callUnary(
    r.closeReferral.bind(r),
    { ...step(closed), outcome: 'services_provided', note: '' },
    n.as('london-intake'),
  );
  const withdrawn = (await sendReferral(n)).referralId;
  await callUnary(r.withdraw.bind(r), { ...step(withdrawn), reason: 'person_withdrew' }, n.as('peel-officer'));
  const declined = (await sendReferral(n)).referralId;
  await callUnary(
    r.decline.bind(r),
    { ...step(declined), reason: 'no_capacity', note: '', suggestedAgency: '', noteForSender: '' },
    n.as('london-intake'),
  );
  const acknowledged = (await sendReferral(n)).referralId;
  await callUnary(r.acknowledge.bind(r), step(acknowledged), n.as('london-intake'));
  const ours = new Set([closed, withdrawn, declined, acknowledged]);

  // Every event of the four referrals in the stream, then each `sent` moved behind the others.
  await waitUntil(async () => {
    const { rows } = await n.sql.query<{ n: number }>(
      'select count(*)::int as n from referrals.outbox where published_at is null',
    );
    return rows[0]!.n === 0;
  }, 30_000);
  const nc = await connect({ servers: n.nats.url });
  const eventIds: string[] = [];
  const sentIds: string[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    const stream = new Topology(n.nats.namespace).stream('referral').name;
    const last = (await jsm.streams.info(stream)).state.last_seq;
    const sent: { subject: string; data: Uint8Array; seq: number }[] = [];
    for (let seq = 1; seq <= last; seq++) {
      const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (!message) continue;
      const envelope = decodeEnvelope(message.data);
      if (!ours.has(envelope.referralId)) continue;
      eventIds.push(envelope.id);
      if (envelope.type === 'referral.v1.sent') {
        sent.push({ subject: message.subject, data: message.data, seq });
        sentIds.push(envelope.id);
      }
    }
    expect(eventIds).toHaveLength(4 + 2 + 2 + 2);
    expect(sent).toHaveLength(4);
    const js = jetstream(nc);
    for (const message of sent) {
      await jsm.streams.deleteMessage(stream, message.seq);
      await js.publish(message.subject, message.data);
    }
  } finally {
    await nc.close();
  }

  // Escalation reads the stream for the first time: every later step before its `sent`.
  ({ service: escalation } = await startEscalationIn(n));
  await waitUntil(async () => {
    const { rows } = await n.sql.query<{ n: number }>(
      `select count(*)::int as n from escalation.inbox where event_id = any($1::uuid[])`,
      [sentIds],
    );
    return rows[0]!.n === sentIds.length;
  }, 30_000);
  const { rows: applied } = await n.sql.query<{ n: number }>(
    `select count(*)::int as n from escalation.inbox where event_id = any($1::uuid[])`,
    [eventIds],
  );
  expect(applied[0]!.n).toBe(eventIds.length);
  const { rows: parked } = await n.sql.query('select event_id from escalation.parked_events');
  expect(parked).toEqual([]);

  const cancelled = (reason: string) => ({ state: 'cancelled', reason });
  expect(await timersOf(closed)).toEqual({ acknowledge: cancelled('acknowledged'), accept: cancelled('accepted') });
  expect(await timersOf(withdrawn)).toEqual({ acknowledge: cancelled('withdrawn'), accept: cancelled('withdrawn') });
  expect(await timersOf(declined)).toEqual({ acknowledge: cancelled('declined'), accept: cancelled('declined') });
  // A late sent neither revives the met target nor loses the open one.
  expect(await timersOf(acknowledged)).toEqual({
    acknowledge: cancelled('acknowledged'),
    accept: { state: 'pending', reason: '' },
  });
  const { rows: pendingOnFinished } = await n.sql.query(
    `select referral_id from escalation.timers where referral_id = any($1::uuid[]) and state = 'pending'`,
    [[closed, withdrawn, declined]],
  );
  expect(pendingOnFinished).toEqual([]);
});
