import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referrals as pb } from '@passage/contracts';
import { callUnary, type PassageError } from '@passage/platform';
import { failureOf } from '@passage/testing';
import { grantConsent, referralScope, startNetwork, type Network } from './support.ts';

// After hours (ADR 41): London is closed on a Saturday night; an urgent referral goes to the
// 24/7 crisis line now and to London with its clock starting at Monday's opening, both under
// one consent and linked. The referrals service's clock is the test's: no waiting for real time.
const saturdayNight = new Date('2026-11-29T04:30:00Z'); // Saturday 23:30 in Toronto
const mondayOpening = new Date('2026-11-30T13:30:00Z'); // Monday 08:30, London's opening
const mondayNoon = new Date('2026-11-30T17:00:00Z');
let clock = saturdayNight;

let n: Network;
let client: pb.ReferralServiceClient;

beforeAll(async () => {
  n = await startNetwork('after-hours', { now: () => clock });
  client = n.referrals!;
});

afterAll(async () => {
  await n?.stop();
});

const crisisLine = 'ontario-ht-crisis-line';
const london = 'london-coalition';
const packet = [
  { category: 'needs', content: 'Synthetic: a safe bed tonight', withheld: false },
  { category: 'safe_contact', content: 'Synthetic: text only after 18:00', withheld: false },
];

function request(subjectRef: string, toAgency: string, extra: Partial<pb.SendRequest> = {}): pb.SendRequest {
  return {
    idempotencyKey: randomUUID(),
    subjectRef,
    fromAgency: 'peel-regional-police',
    toAgency,
    priority: pb.Priority.PRIORITY_URGENT,
    needs: ['shelter'],
    language: 'es',
    interpreterNeeded: true,
    packet,
    ...extra,
  };
}

const send = (r: pb.SendRequest) =>
  callUnary(client.send.bind(client), r, n.as('peel-officer')).then((answer) => answer.referral!);
const get = (id: string, user: Parameters<Network['as']>[0]) =>
  callUnary(client.get.bind(client), { referralId: id, purpose: '' }, n.as(user)).then((answer) => answer.referral!);
const failure = (promise: Promise<unknown>) => failureOf<PassageError>(promise);

/** One consent whose scope covers both agencies: the person agreed to both at once. */
async function consentForBoth(): Promise<string> {
  const { subjectRef } = await grantConsent(n, 'peel-officer', [
    referralScope({ recipients: [crisisLine, london], categories: ['needs', 'safe_contact'] }),
  ]);
  return subjectRef;
}

describe('an urgent referral after hours', () => {
  it('goes to the crisis line now and to London with its clock from the opening, the two linked', async () => {
    clock = saturdayNight;
    const subjectRef = await consentForBoth();
    const now = await send(request(subjectRef, crisisLine));
    expect(now.clockStartsAt).toBeUndefined();
    expect(now.acknowledgeDueAt!.getTime() - saturdayNight.getTime()).toBe(15 * 60_000);

    const later = await send(request(subjectRef, london, { clockStartsAtOpening: true, linkedReferralId: now.id }));
    expect(later.clockStartsAt).toEqual(mondayOpening);
    expect(later.sentAt).toEqual(saturdayNight);
    // London's urgent targets (60 and 240 minutes) count from Monday 08:30, not from Saturday night.
    expect(later.acknowledgeDueAt!.getTime() - mondayOpening.getTime()).toBe(60 * 60_000);
    expect(later.acceptDueAt!.getTime() - mondayOpening.getTime()).toBe(240 * 60_000);
    expect(later.linkedReferralId).toBe(now.id);
    expect(later.linkedAgency).toBe(crisisLine);

    // Each party sees the link: the crisis line its referral naming London's, London its own.
    const seenByCrisisLine = await get(now.id, 'crisis-counsellor');
    expect(seenByCrisisLine.linkedReferralId).toBe(later.id);
    expect(seenByCrisisLine.linkedAgency).toBe(london);
    expect(seenByCrisisLine.version).toBe(now.version);
    const seenByLondon = await get(later.id, 'london-intake');
    expect(seenByLondon.linkedReferralId).toBe(now.id);
    expect(seenByLondon.clockStartsAt).toEqual(mondayOpening);

    // The event the escalation timers are planned from carries the due times counted from the opening.
    const { rows } = await n.sql.query<{ due: Date; starts: Date }>(
      'select acknowledge_due_at as due, clock_starts_at as starts from referrals.referrals where id = $1',
      [later.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.starts).toEqual(mondayOpening);
    expect(rows[0]!.due >= mondayOpening).toBe(true);
  });

  it('refuses a clock at opening for an agency that is open now, or that never closes', async () => {
    clock = mondayNoon;
    const subjectRef = await consentForBoth();
    const open = await failure(send(request(subjectRef, london, { clockStartsAtOpening: true })));
    expect(open.code).toBe('invalid_argument');
    expect(open.violations.map((v) => v.field)).toEqual(['clock_starts_at_opening']);
    clock = saturdayNight;
    const always = await failure(send(request(subjectRef, crisisLine, { clockStartsAtOpening: true })));
    expect(always.violations.map((v) => v.field)).toEqual(['clock_starts_at_opening']);
  });

  it('links only to the crisis line’s referral for the same person, once', async () => {
    clock = saturdayNight;
    const subjectRef = await consentForBoth();
    const other = await consentForBoth();
    const toLondon = await send(request(subjectRef, london, { clockStartsAtOpening: true }));
    const notCrisis = await failure(
      send(request(subjectRef, london, { clockStartsAtOpening: true, linkedReferralId: toLondon.id })),
    );
    expect(notCrisis.violations).toEqual([
      { field: 'linked_referral_id', description: 'a referral to the 24/7 crisis line' },
    ]);
    const crisis = await send(request(other, crisisLine));
    const otherPerson = await failure(
      send(request(subjectRef, london, { clockStartsAtOpening: true, linkedReferralId: crisis.id })),
    );
    expect(otherPerson.violations).toEqual([
      { field: 'linked_referral_id', description: 'a referral for the same person' },
    ]);
    const notAfterHours = await failure(send(request(other, london, { linkedReferralId: crisis.id })));
    expect(notAfterHours.violations.map((v) => v.field)).toEqual(['linked_referral_id']);
    await send(request(other, london, { clockStartsAtOpening: true, linkedReferralId: crisis.id }));
    const twice = await failure(
      send(request(other, london, { clockStartsAtOpening: true, linkedReferralId: crisis.id })),
    );
    expect(twice.violations).toEqual([
      { field: 'linked_referral_id', description: 'a referral not yet linked to another' },
    ]);
  });
});
