import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { referrals as pb } from '@passage/contracts';
import type { Caller } from '@passage/auth';
import { callUnary, type PassageError } from '@passage/platform';
import { decodeEnvelope } from '@passage/events';
import { failureOf } from '@passage/testing';
import { grantConsent, referralScope, startNetwork, type Network } from './support.ts';

let n: Network;
let client: pb.ReferralServiceClient;

beforeAll(async () => {
  n = await startNetwork('takeover');
  client = n.referrals!;
});

afterAll(async () => {
  await n?.stop();
});

const crisisLine = 'ontario-ht-crisis-line';
const system: Caller = { userId: 'escalation', agencyId: 'passage-system', roles: ['service'] };
const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);
const step = (id: string) => ({ idempotencyKey: randomUUID(), referralId: id, expectedVersion: 0 });

/** Peel police refer a person to London; the person's consent covers the crisis line too, or not. */
async function sendToLondon(coverCrisisLine: boolean) {
  const { subjectRef } = await grantConsent(n, 'peel-officer', [
    referralScope({ recipients: ['london-coalition'], categories: ['identity', 'needs'] }),
    ...(coverCrisisLine ? [referralScope({ recipients: [crisisLine], categories: ['needs'] })] : []),
  ]);
  const { referral } = await callUnary(
    client.send.bind(client),
    {
      idempotencyKey: randomUUID(),
      subjectRef,
      fromAgency: 'peel-regional-police',
      toAgency: 'london-coalition',
      priority: pb.Priority.PRIORITY_URGENT,
      needs: ['shelter'],
      language: 'en',
      interpreterNeeded: false,
      packet: [
        { category: 'identity', content: 'Synthetic person Vbnq', withheld: false },
        { category: 'needs', content: 'Synthetic need Vbnq', withheld: false },
      ],
    },
    n.as('peel-officer'),
  );
  return referral!;
}

const escalate = (id: string) =>
  callUnary(
    client.escalate.bind(client),
    { idempotencyKey: randomUUID(), referralId: id, target: 'acknowledge' },
    n.as(system),
  );
const takeOver = (id: string, user: Parameters<Network['as']>[0] = 'crisis-counsellor', key = randomUUID()) =>
  callUnary(client.takeOver.bind(client), { idempotencyKey: key, referralId: id, expectedVersion: 0 }, n.as(user));
const get = (id: string, user: Parameters<Network['as']>[0]) =>
  callUnary(client.get.bind(client), { referralId: id, purpose: '' }, n.as(user));
const timeline = (id: string, user: Parameters<Network['as']>[0]) =>
  callUnary(client.timeline.bind(client), { referralId: id }, n.as(user));

describe('the crisis line takes over an escalated referral', () => {
  it('only once escalated, only a crisis line, never a party', async () => {
    const sent = await sendToLondon(true);
    // Not escalated: to the crisis line, the referral does not exist.
    expect((await failure(takeOver(sent.id))).code).toBe('not_found');
    expect((await failure(timeline(sent.id, 'crisis-counsellor'))).code).toBe('not_found');
    await escalate(sent.id);
    // Escalated: the crisis line reads its timeline before taking it over.
    const before = await timeline(sent.id, 'crisis-counsellor');
    expect(before.transitions.map((t) => t.event)).toEqual(['sent', 'escalated']);
    // Another agency's counsellor (a first-response agency, not the crisis line).
    expect((await failure(takeOver(sent.id, 'walk-with-me-worker'))).code).toBe('not_found');
    // An intake worker lacks the role; the receiving agency's supervisor is a party.
    expect((await failure(takeOver(sent.id, 'london-intake'))).code).toBe('permission_denied');
    expect((await failure(takeOver(sent.id, 'london-supervisor'))).code).toBe('permission_denied');
  });

  it('needs the consent to cover the crisis line now', async () => {
    const sent = await sendToLondon(false);
    await escalate(sent.id);
    const refused = await failure(takeOver(sent.id));
    expect(refused.code).toBe('failed_precondition');
    expect(refused.message).toMatch(/consent/);
  });

  it('makes the crisis line the recipient; the original recipient and the sender see it did', async () => {
    const sent = await sendToLondon(true);
    await escalate(sent.id);
    const key = randomUUID();
    const { referral: taken } = await takeOver(sent.id, 'crisis-counsellor', key);
    expect(taken).toMatchObject({
      takenOverBy: crisisLine,
      toAgency: 'london-coalition',
      state: pb.State.STATE_SENT,
      version: 3,
      escalated: true,
    });
    expect(taken!.takenOverAt).toBeInstanceOf(Date);
    // A retry returns the first result; a second take-over is refused.
    expect((await takeOver(sent.id, 'crisis-counsellor', key)).referral).toEqual(taken);
    expect((await failure(takeOver(sent.id))).code).toBe('failed_precondition');

    // The original recipient can act no more.
    const refused = await failure(callUnary(client.acknowledge.bind(client), step(sent.id), n.as('london-intake')));
    expect(refused.code).toBe('permission_denied');
    // The crisis line acknowledges, accepts, records contact and closes.
    await callUnary(client.acknowledge.bind(client), step(sent.id), n.as('crisis-counsellor'));
    await callUnary(client.accept.bind(client), step(sent.id), n.as('crisis-counsellor'));
    await callUnary(
      client.recordContact.bind(client),
      { ...step(sent.id), at: new Date(), method: 'phone' },
      n.as('crisis-counsellor'),
    );
    const { referral: closed } = await callUnary(
      client.closeReferral.bind(client),
      { ...step(sent.id), outcome: 'services_provided', note: '' },
      n.as('crisis-counsellor'),
    );
    expect(closed).toMatchObject({ state: pb.State.STATE_CLOSED, takenOverBy: crisisLine });

    // What each party reads: the crisis line the packet its consent allows, the original recipient none of it.
    const byCrisisLine = await get(sent.id, 'crisis-counsellor');
    expect(byCrisisLine.packet).toEqual([
      { category: 'identity', content: '', withheld: true },
      { category: 'needs', content: 'Synthetic need Vbnq', withheld: false },
    ]);
    const byOriginal = await get(sent.id, 'london-intake');
    expect(byOriginal.referral).toMatchObject({ takenOverBy: crisisLine, state: pb.State.STATE_CLOSED });
    expect(byOriginal.packet).not.toHaveLength(0);
    expect(byOriginal.packet.every((s) => s.withheld)).toBe(true);
    expect((await get(sent.id, 'peel-officer')).referral).toMatchObject({ takenOverBy: crisisLine });

    // The timeline, to every party.
    for (const user of ['peel-officer', 'london-intake', 'crisis-counsellor'] as const) {
      const { transitions } = await timeline(sent.id, user);
      expect(transitions.map((t) => t.event)).toEqual([
        'sent',
        'escalated',
        'taken_over',
        'acknowledged',
        'accepted',
        'contact_recorded',
        'closed',
      ]);
      expect(transitions[2]).toMatchObject({ actorAgency: crisisLine, actorRole: 'crisis_counsellor' });
    }

    // Both inboxes list it: the crisis line's (taken over), London's (marked taken over).
    for (const [user, agency] of [
      ['crisis-counsellor', crisisLine],
      ['london-intake', 'london-coalition'],
    ] as const) {
      const inbox = await callUnary(
        client.listInbox.bind(client),
        { agency, states: [], cursor: '', pageSize: 200, assignedTo: '' },
        n.as(user),
      );
      expect(inbox.referrals).not.toHaveLength(0);
      expect(inbox.referrals.find((r) => r.id === sent.id)).toMatchObject({ takenOverBy: crisisLine });
    }

    // The take-over goes out to the original recipient; what follows to the crisis line.
    const { rows } = await n.sql.query<{ subject: string; payload: Buffer }>(
      'select subject, payload from referrals.outbox order by seq',
    );
    const subjects = rows
      .filter((r) => r.subject.includes('referral.v1.') && decodeEnvelope(r.payload).referralId === sent.id)
      .map((r) => r.subject.replace(/^.*referral\.v1\./, ''));
    expect(subjects).toEqual([
      'peel-regional-police.london-coalition.sent',
      'peel-regional-police.london-coalition.escalated',
      'peel-regional-police.london-coalition.taken_over',
      `peel-regional-police.${crisisLine}.acknowledged`,
      `peel-regional-police.${crisisLine}.accepted`,
      `peel-regional-police.${crisisLine}.contact_recorded`,
      `peel-regional-police.${crisisLine}.closed`,
    ]);
  });

  it('refuses once the referral no longer waits on its recipient, and escalates no more after', async () => {
    const accepted = await sendToLondon(true);
    await escalate(accepted.id);
    await callUnary(client.accept.bind(client), step(accepted.id), n.as('london-intake'));
    expect((await failure(takeOver(accepted.id))).code).toBe('failed_precondition');

    const taken = await sendToLondon(true);
    await escalate(taken.id);
    await takeOver(taken.id);
    const late = await failure(
      callUnary(
        client.escalate.bind(client),
        { idempotencyKey: randomUUID(), referralId: taken.id, target: 'accept' },
        n.as(system),
      ),
    );
    expect(late.code).toBe('failed_precondition');
  });
});
