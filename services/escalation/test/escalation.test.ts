import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { escalation, ops } from '@passage/contracts';
import { Topology, createEnvelope, encodeEnvelope } from '@passage/events';
import { callUnary } from '@passage/platform';
import { failureOf } from '@passage/testing';
import { startNetwork, waitUntil, type Network } from '@passage/referrals/testing';
import type { RunningEscalation } from '../src/service.ts';
import { TestClock, dueAt, escalatedEvents, sendReferral, startEscalationIn, timerStates } from './support.ts';

let n: Network;
let service: RunningEscalation;
let client: escalation.EscalationServiceClient;
const clock = new TestClock();

beforeAll(async () => {
  n = await startNetwork('escalation');
  ({ service, client } = await startEscalationIn(n, clock));
});

afterEach(() => clock.reset());

afterAll(async () => {
  client?.close();
  await service?.shutdown.run();
  await n?.stop();
});

/** Moves the service's clock a second past a timer's due time and waits for the timer to fire. */
async function passDue(referralId: string, target: 'acknowledge' | 'accept'): Promise<void> {
  clock.moveTo(new Date((await dueAt(n, referralId, target)).getTime() + 1_000));
  await waitUntil(async () => (await timerStates(n, referralId))[target] === 'fired', 10_000);
}

const items = (user: string) => callUnary(client.listEscalations.bind(client), { limit: 0 }, n.as(user));

describe('SLA escalation', () => {
  it('schedules acknowledge-by and accept-by at the due times of a sent referral', async () => {
    const { referralId } = await sendReferral(n);
    await waitUntil(async () => Object.keys(await timerStates(n, referralId)).length === 2);
    const { rows } = await n.sql.query<{ target: string; due: string; expected: string }>(
      `select t.target, t.due_at::text as due,
              case t.target when 'acknowledge' then r.acknowledge_due_at::text else r.accept_due_at::text end as expected
       from escalation.timers t join referrals.referrals r on r.id = t.referral_id where t.referral_id = $1`,
      [referralId],
    );
    expect(rows.map((row) => row.target).sort()).toEqual(['accept', 'acknowledge']);
    expect(rows.every((row) => row.due === row.expected)).toBe(true);
  });

  it('escalates a missed acknowledgement once: the referral is flagged, the crisis line and the sender are told', async () => {
    const { referralId } = await sendReferral(n);
    await waitUntil(async () => (await timerStates(n, referralId))['acknowledge'] === 'pending');
    await passDue(referralId, 'acknowledge');
    expect(await escalatedEvents(n, referralId)).toBe(1);
    const { rows } = await n.sql.query<{ subject: string }>(
      `select subject from referrals.outbox where subject like '%.escalated' and payload is not null order by seq desc limit 1`,
    );
    expect(rows[0]!.subject).toMatch(/referral\.v1\.peel-regional-police\.london-coalition\.escalated$/);

    const crisis = (await items('crisis-counsellor')).items.find((item) => item.referralId === referralId)!;
    expect(crisis).toMatchObject({
      audience: 'crisis_line',
      forAgency: 'ontario-ht-crisis-line',
      missedTarget: 'acknowledge',
      fromAgency: 'peel-regional-police',
      toAgency: 'london-coalition',
      priority: 'urgent',
      consentCoversReader: false,
    });
    expect(crisis.note).toContain('metadata only');
    expect(crisis.candidates.every((c) => c.agencyId !== 'london-coalition')).toBe(true);
    const sender = (await items('peel-officer')).items.find((item) => item.referralId === referralId);
    expect(sender).toMatchObject({ audience: 'sender', forAgency: 'peel-regional-police' });
    expect((await items('london-supervisor')).items.filter((item) => item.referralId === referralId)).toEqual([]);

    // The crisis line reads the escalated referral like anyone else: here consent does not cover it.
    const view = await callUnary(
      n.referrals!.get.bind(n.referrals!),
      { referralId, purpose: '' },
      n.as('crisis-counsellor'),
    );
    expect(view.referral).toMatchObject({ id: referralId, escalated: true });
    expect(view.packet).toEqual([{ category: 'needs', content: '', withheld: true }]);
  });

  it("tells the receiving agency's supervisors when a second target passes", async () => {
    const { referralId } = await sendReferral(n);
    await waitUntil(async () => Object.keys(await timerStates(n, referralId)).length === 2);
    await passDue(referralId, 'acknowledge');
    await passDue(referralId, 'accept');
    const supervisors = (await items('london-supervisor')).items.filter((item) => item.referralId === referralId);
    expect(supervisors).toMatchObject([
      { audience: 'supervisors', forAgency: 'london-coalition', missedTarget: 'accept' },
    ]);
    expect((await items('london-intake')).items.filter((item) => item.referralId === referralId)).toEqual([]);
    expect(await escalatedEvents(n, referralId)).toBe(2);
  });

  it('lets the crisis line read what consent gives it', async () => {
    const { referralId } = await sendReferral(n, ['london-coalition', 'ontario-ht-crisis-line']);
    await waitUntil(async () => Object.keys(await timerStates(n, referralId)).length === 2);
    await passDue(referralId, 'acknowledge');
    const crisis = (await items('crisis-counsellor')).items.find((item) => item.referralId === referralId)!;
    expect(crisis).toMatchObject({ consentCoversReader: true, note: '' });
    const view = await callUnary(
      n.referrals!.get.bind(n.referrals!),
      { referralId, purpose: '' },
      n.as('crisis-counsellor'),
    );
    expect(view.packet).toEqual([{ category: 'needs', content: 'Synthetic: counselling this week', withheld: false }]);
  });

  it('never escalates an acknowledged target, nor anything of an accepted referral', async () => {
    const { referralId } = await sendReferral(n);
    await waitUntil(async () => Object.keys(await timerStates(n, referralId)).length === 2);
    const step = { idempotencyKey: randomUUID(), referralId, expectedVersion: 0 };
    await callUnary(n.referrals!.acknowledge.bind(n.referrals!), step, n.as('london-intake'));
    await waitUntil(async () => (await timerStates(n, referralId))['acknowledge'] === 'cancelled');
    await callUnary(
      n.referrals!.accept.bind(n.referrals!),
      { ...step, idempotencyKey: randomUUID() },
      n.as('london-intake'),
    );
    await waitUntil(async () => (await timerStates(n, referralId))['accept'] === 'cancelled');
    // A later referral left unanswered: once its acknowledgement has fired at a time past both
    // cancelled targets, the worker has looked past them.
    const marker = await sendReferral(n);
    await waitUntil(async () => Object.keys(await timerStates(n, marker.referralId)).length === 2);
    const pastBoth = Math.max(
      (await dueAt(n, referralId, 'accept')).getTime(),
      (await dueAt(n, marker.referralId, 'acknowledge')).getTime(),
    );
    clock.moveTo(new Date(pastBoth + 1_000));
    await waitUntil(async () => (await timerStates(n, marker.referralId))['acknowledge'] === 'fired', 10_000);
    expect(await timerStates(n, referralId)).toEqual({ acknowledge: 'cancelled', accept: 'cancelled' });
    expect(await escalatedEvents(n, referralId)).toBe(0);
  });

  it('parks an event it cannot schedule and goes on', async () => {
    const nc = await connect({ servers: n.nats.url });
    try {
      const topology = new Topology(n.nats.namespace);
      const referralId = randomUUID();
      const envelope = createEnvelope({
        type: 'referral.v1.sent',
        referralId,
        subjectRef: randomUUID(),
        fromAgency: 'peel-regional-police',
        toAgency: 'london-coalition',
        priority: 'urgent',
        payload: {
          $case: 'referralChanged',
          value: {
            assignedUser: '',
            reference: '',
            referralId,
            state: 'sent',
            version: 1,
            takenOverBy: '',
            sentAt: new Date(),
            acknowledgeDueAt: undefined,
            acceptDueAt: undefined,
            reason: '',
            suggestedAgency: '',
            previousReferralId: '',
            needs: [],
          },
        },
      });
      await jetstream(nc).publish(
        topology.referral('peel-regional-police', 'london-coalition', 'sent'),
        encodeEnvelope(envelope),
        {
          msgID: envelope.id,
        },
      );
      await waitUntil(async () => {
        const { rows } = await n.sql.query<{ error: string }>('select error from escalation.parked_events');
        return rows.some((row) => row.error.includes('without its due times'));
      });
      expect(await timerStates(n, referralId)).toEqual({});

      // An administrator sees it through the service's ParkedEventsService; a replay runs the
      // handler again, which still cannot schedule it: it stays parked, and the replay is audited.
      const parked = new ops.ParkedEventsServiceClient(service.address, n.credentials);
      try {
        const { events } = await callUnary(parked.list.bind(parked), { consumer: '', limit: 0 }, n.as('admin'));
        expect(events.length).toBeGreaterThan(0);
        expect(events.find((event) => event.eventId === envelope.id)).toMatchObject({
          consumer: 'escalation-referrals',
          service: 'escalation',
          type: 'referral.v1.sent',
          attempts: 3,
        });
        const refused = await failureOf<{ code: string }>(
          callUnary(parked.list.bind(parked), { consumer: '', limit: 0 }, n.as('london-supervisor')),
        );
        expect(refused.code).toBe('permission_denied');
        const replay = await callUnary(
          parked.replay.bind(parked),
          { eventId: envelope.id, consumer: '' },
          n.as('admin'),
        );
        expect(replay.outcome).toBe('failed');
        expect(replay.error).toContain('without its due times');
        const { rows } = await n.sql.query<{ attempts: number }>(
          'select attempts from escalation.parked_events where event_id = $1',
          [envelope.id],
        );
        expect(rows).toEqual([{ attempts: 4 }]);
        // The audit event went out through escalation's own outbox.
        await waitUntil(async () => {
          const published = await n.sql.query<{ published: boolean }>(
            'select published_at is not null as published from escalation.outbox where id = $1',
            [replay.auditEventId],
          );
          return published.rows[0]?.published === true;
        });
      } finally {
        parked.close();
      }
    } finally {
      await nc.close();
    }
    // Still at work.
    const { referralId } = await sendReferral(n);
    await waitUntil(async () => Object.keys(await timerStates(n, referralId)).length === 2);
  });

  it('shows administrators the timers, and nobody else', async () => {
    const { referralId } = await sendReferral(n);
    await waitUntil(async () => Object.keys(await timerStates(n, referralId)).length === 2);
    await passDue(referralId, 'acknowledge');
    const { timers } = await callUnary(client.listTimers.bind(client), { state: 'fired', limit: 0 }, n.as('admin'));
    expect(timers.filter((t) => t.referralId === referralId)).toMatchObject([
      { referralId, target: 'acknowledge', state: 'fired' },
    ]);
    expect(timers.every((t) => t.state === 'fired' && t.firedAt instanceof Date)).toBe(true);
    const refused = await failureOf<{ code: string }>(
      callUnary(client.listTimers.bind(client), { state: '', limit: 0 }, n.as('crisis-counsellor')),
    );
    expect(refused.code).toBe('permission_denied');
    const bad = await failureOf<{ code: string; message: string }>(
      callUnary(client.listTimers.bind(client), { state: 'exploded', limit: 0 }, n.as('admin')),
    );
    expect(bad.message).toMatch(/^state:/);
  });

  it('prunes timers fired or cancelled longer ago than the retention, with their items, and keeps pending ones', async () => {
    const fired = await sendReferral(n);
    await waitUntil(async () => Object.keys(await timerStates(n, fired.referralId)).length === 2);
    await passDue(fired.referralId, 'acknowledge');
    // The pending one must stay pending while the clock moves 91 days on: due after that, the
    // worker leaves it alone (due within the 91 days, the worker would fire it as the clock passes).
    const later = await n.sql.query(
      `update escalation.timers set due_at = $2 where referral_id = $1 and target = 'accept' and state = 'pending'`,
      [fired.referralId, new Date(Date.now() + 365 * 86_400_000)],
    );
    expect(later.rowCount).toBe(1);
    // Back to the wall clock before the next referral: left a second past the first one's
    // acknowledge-by, the clock would already be past the next one's (sent within that second),
    // and the worker would fire it instead of the referral cancelling it.
    clock.reset();
    const cancelled = await sendReferral(n);
    await waitUntil(async () => Object.keys(await timerStates(n, cancelled.referralId)).length === 2);
    // Cancelled the way timers are: the receiving agency acknowledges, then accepts.
    const step = { idempotencyKey: randomUUID(), referralId: cancelled.referralId, expectedVersion: 0 };
    await callUnary(n.referrals!.acknowledge.bind(n.referrals!), step, n.as('london-intake'));
    await callUnary(
      n.referrals!.accept.bind(n.referrals!),
      { ...step, idempotencyKey: randomUUID() },
      n.as('london-intake'),
    );
    await waitUntil(async () => {
      const states = await timerStates(n, cancelled.referralId);
      return states['acknowledge'] === 'cancelled' && states['accept'] === 'cancelled';
    });
    const itemsOf = async (referralId: string) =>
      (await n.sql.query('select 1 from escalation.items where referral_id = $1', [referralId])).rowCount;
    expect(await itemsOf(fired.referralId)).toBeGreaterThan(0);

    // 89 days on, everything is kept; 91 days on (the default keeps 90), the settled ones go.
    clock.moveTo(new Date(Date.now() + 89 * 86_400_000));
    await service.maintenance.pruner.pruneOnce();
    expect(await timerStates(n, cancelled.referralId)).toEqual({ acknowledge: 'cancelled', accept: 'cancelled' });
    clock.moveTo(new Date(Date.now() + 91 * 86_400_000));
    const report = await service.maintenance.pruner.pruneOnce();
    expect(report.leader).toBe(true);
    expect(report.deleted['escalation_items']).toBeGreaterThan(0);
    expect(await timerStates(n, fired.referralId)).toEqual({ accept: 'pending' });
    expect(await itemsOf(fired.referralId)).toBe(0);
    expect(await timerStates(n, cancelled.referralId)).toEqual({});
  });
});
