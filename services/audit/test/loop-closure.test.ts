import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '@passage/contracts';
import { createEnvelope } from '@passage/events';
import { callUnary } from '@passage/platform';
import { failureOf } from '@passage/testing';
import { formatReference } from '@passage/vocabulary';
import {
  agencyEvent,
  referralEvents,
  startAuditLab,
  waitForEntries,
  type AuditLab,
  type ReferralStory,
} from './support.ts';

// Loop closure, against the real log: events on NATS, the projection in PostgreSQL, the RPCs
// over mutual TLS. December 2026, worked out by hand:
//   london-coalition (open Mon–Fri 09:00–17:00 Toronto), 16 referrals, none a resend:
//     6 sent Wednesday 03:00 UTC (Tuesday 22:00 in Toronto: after hours), accepted at 30 min,
//       first contact at 60, 70, … 110 min, closed services_provided;
//     5 sent Tuesday 15:00 UTC (10:00 in Toronto), declined at 30 min, each sent on to Ottawa;
//     5 sent Tuesday 15:10 UTC, acknowledged, still open.
//   pact-ottawa (always open), 5 referrals: the resends, sent 60 min after the first send,
//     accepted 20 min later (80 min after the first send), closed services_provided.
const night = Date.UTC(2026, 11, 2, 3, 0); // Wednesday 03:00 UTC = Tuesday 22:00 Toronto
const tuesday = Date.UTC(2026, 11, 1, 15, 0);
const december = { since: new Date(Date.UTC(2026, 11, 1)), until: new Date(Date.UTC(2027, 0, 1)) };
const due = { acknowledgeDueMinutes: 60, acceptDueMinutes: 240 };

const afterHours: ReferralStory[] = Array.from({ length: 6 }, (_, i) => ({
  id: randomUUID(),
  from: 'peel-regional-police',
  to: 'london-coalition',
  sentAt: new Date(night + i * 60_000),
  ...due,
  acknowledged: 10,
  accepted: 30,
  contact: 60 + i * 10,
  closed: 600,
}));
const declined: ReferralStory[] = Array.from({ length: 5 }, (_, i) => ({
  id: randomUUID(),
  from: 'peel-regional-police',
  to: 'london-coalition',
  sentAt: new Date(tuesday + i * 60_000),
  ...due,
  declined: 30,
}));
const open: ReferralStory[] = Array.from({ length: 5 }, (_, i) => ({
  id: randomUUID(),
  from: 'peel-regional-police',
  to: 'london-coalition',
  sentAt: new Date(tuesday + (10 + i) * 60_000),
  ...due,
  acknowledged: 10,
}));
const resends: ReferralStory[] = declined.map((first) => ({
  id: randomUUID(),
  previousReferralId: first.id!,
  from: 'peel-regional-police',
  to: 'pact-ottawa',
  sentAt: new Date(first.sentAt.getTime() + 60 * 60_000),
  ...due,
  acknowledged: 5,
  accepted: 20,
  closed: 300,
}));

// Consent honoured (November, outside the loop-closure month): one person, one consent, two
// referrals sent under it. Revoked on 20 November at 15:00. X1 was read before, then refused
// at 16:00 and 17:00: honoured from 16:00. X2 was read, granted, at 15:30: not honoured.
const person = randomUUID();
const consentId = randomUUID();
const revokedAt = new Date(Date.UTC(2026, 10, 20, 15));
const later = (minutes: number) => new Date(revokedAt.getTime() + minutes * 60_000);
const covered: ReferralStory[] = [0, 1].map((i) => ({
  id: randomUUID(),
  // As the referrals service writes it (@passage/vocabulary); the second typed loosely below.
  reference: formatReference(9_000_001 + i),
  subjectRef: person,
  consentId,
  from: 'peel-regional-police',
  to: 'london-coalition',
  sentAt: new Date(Date.UTC(2026, 10, 10 + i, 15)),
  ...due,
  acknowledged: 10,
}));
const november = { since: new Date(Date.UTC(2026, 10, 1)), until: new Date(Date.UTC(2026, 11, 1)) };

function personEvent(
  subject: string,
  type: string,
  occurredAt: Date,
  payload: Parameters<typeof createEnvelope>[0]['payload'],
  referralId = '',
) {
  return {
    subject,
    envelope: createEnvelope({
      type,
      occurredAt,
      actor: { agency: 'london-coalition', user: 'london-intake', role: 'intake_worker' },
      subjectRef: person,
      consentId,
      referralId,
      payload,
    }),
  };
}

function readOf(story: ReferralStory, outcome: 'granted' | 'denied', at: Date) {
  const referralId: string = story.id!;
  return personEvent(
    lab.topology.audit('access'),
    'audit.v1.access',
    at,
    {
      $case: 'accessRecorded',
      value: {
        referralId,
        outcome,
        categories: ['needs'],
        consentIds: [consentId],
        purpose: 'referral',
        reason: outcome === 'denied' ? 'no_consent' : '',
        record: '',
      },
    },
    referralId,
  );
}

let lab: AuditLab;
let client: audit.AuditServiceClient;

beforeAll(async () => {
  lab = await startAuditLab('auditloop');
  client = lab.client!;
  const events = [
    agencyEvent(lab.topology, 'london-coalition', 'london', {
      alwaysOpen: false,
      periods: ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, opens: '09:00', closes: '17:00' })),
    }),
    agencyEvent(lab.topology, 'pact-ottawa', 'ottawa', { alwaysOpen: true, periods: [] }),
    ...[...afterHours, ...declined, ...open, ...resends].flatMap((story) => referralEvents(story, lab.topology)),
    personEvent(lab.topology.consent('granted'), 'consent.v1.granted', new Date(Date.UTC(2026, 10, 10, 14)), {
      $case: 'consentGranted',
      value: { consentId, expiresAt: undefined, scopes: [], method: 'verbal' },
    }),
    ...covered.flatMap((story) => referralEvents(story, lab.topology)),
    readOf(covered[0]!, 'granted', later(-60)),
    personEvent(lab.topology.consent('revoked'), 'consent.v1.revoked', revokedAt, {
      $case: 'consentRevoked',
      value: { consentId, scopeIds: [], all: true, reason: 'person_asked' },
    }),
    readOf(covered[1]!, 'granted', later(30)),
    readOf(covered[0]!, 'denied', later(60)),
    readOf(covered[0]!, 'denied', later(120)),
  ];
  for (const { subject, envelope } of events) await lab.publish(envelope, subject);
  await waitForEntries(lab, events.length);
});

afterAll(async () => {
  await lab?.stop();
});

const handoff = (groupBy: string, user = 'auditor') =>
  callUnary(client.handoffReport.bind(client), { groupBy, range: december }, lab.as(user));
const drill = (request: Partial<audit.HandoffReferralsRequest>, user = 'auditor') =>
  callUnary(
    client.handoffReferrals.bind(client),
    { groupBy: '', group: '', figure: '', range: december, cursor: '', limit: 0, ...request },
    lab.as(user),
  );
const minutes = (n: number) => n * 60;
const ids = (list: readonly ReferralStory[]) => list.map((s) => s.id!).sort();

describe('loop closure in the hand-off report', () => {
  it('gives closure, outcome mix, decline, resend, acceptance anywhere and after hours, as worked out by hand', async () => {
    const report = await handoff('month');
    expect(report.rows.map((r) => r.group)).toEqual(['2026-12']);
    const month = report.rows[0]!;
    expect(month.referrals).toBe(21);
    expect(month.closed).toEqual({ suppressed: false, count: 11 });
    expect(month.closureRate).toEqual({ suppressed: false, value: 11 / 21 });
    expect(month.outcomes).toEqual([
      { outcome: 'closed:services_provided', count: { suppressed: false, count: 11 } },
      { outcome: 'declined', count: { suppressed: false, count: 5 } },
      { outcome: 'open', count: { suppressed: false, count: 5 } },
    ]);
    expect(month.declineRate).toEqual({ suppressed: false, value: 5 / 21 });
    expect(month.resent).toEqual({ suppressed: false, count: 5 });
    expect(month.resendRate).toEqual({ suppressed: false, value: 5 / 21 });
    // 16 chains; 11 reached an acceptance: 6 at 30 min, 5 at 80 min (the resend, accepted 20 min after it was sent).
    expect(month.acceptAnywhere).toEqual({
      suppressed: false,
      count: 11,
      p50Seconds: minutes(30),
      p90Seconds: minutes(80),
      maxSeconds: minutes(80),
    });
    // Only London's six late-evening referrals arrived when their agency was closed.
    expect(month.afterHours).toEqual({ suppressed: false, count: 6 });
    expect(month.afterHoursFirstContact).toEqual({
      suppressed: false,
      count: 6,
      p50Seconds: minutes(85),
      p90Seconds: minutes(105),
      maxSeconds: minutes(110),
    });
    expect(report.total).toMatchObject({ closed: { suppressed: false, count: 11 }, afterHours: { count: 6 } });
  });

  it('suppresses small cells and what would give them away, by agency', async () => {
    const report = await handoff('agency');
    expect(report.rows.map((r) => [r.group, r.referrals])).toEqual([
      ['london-coalition', 16],
      ['pact-ottawa', 5],
    ]);
    const [london, ottawa] = report.rows;
    // Ottawa's 0 declined and 0 open are under 5; its 5 closed would then be its total minus
    // nothing; London's cells would follow from the column totals: all hidden, totals shown.
    for (const row of [london!, ottawa!]) {
      expect(row.outcomes.length).toBeGreaterThan(0);
      expect(row.outcomes.every((o) => o.count!.suppressed && o.count!.count === 0)).toBe(true);
      expect(row.closed).toEqual({ suppressed: true, count: 0 });
      expect(row.closureRate).toEqual({ suppressed: true, value: 0 });
      expect(row.declineRate!.suppressed).toBe(true);
    }
    // Resent: London 5, Ottawa 0 (hidden) — so London's is hidden too; the total 5 stands.
    expect([london!.resent, ottawa!.resent]).toEqual([
      { suppressed: true, count: 0 },
      { suppressed: true, count: 0 },
    ]);
    expect(report.total!.resent).toEqual({ suppressed: false, count: 5 });
    expect(report.total!.closed).toEqual({ suppressed: false, count: 11 });
    expect(report.total!.outcomes.map((o) => [o.outcome, o.count!.count])).toEqual([
      ['closed:services_provided', 11],
      ['declined', 5],
      ['open', 5],
    ]);
    // Durations over a hidden count are hidden with it.
    expect(ottawa!.afterHoursFirstContact).toMatchObject({ suppressed: true, count: 0, p50Seconds: 0 });
    expect(london!.afterHours!.suppressed).toBe(true);
    expect(report.total!.afterHours).toEqual({ suppressed: false, count: 6 });
  });
});

describe('drill-down: the referrals behind a figure', () => {
  it('lists the referrals behind a cell, metadata only, a page at a time', async () => {
    const resent = await drill({ groupBy: 'agency', group: 'london-coalition', figure: 'resent' });
    expect(resent.referrals.map((r) => r.referralId).sort()).toEqual(ids(declined));
    expect(resent.nextCursor).toBe('');
    const first = resent.referrals[0]!;
    expect(first).toMatchObject({
      fromAgency: 'peel-regional-police',
      toAgency: 'london-coalition',
      state: 'declined',
    });
    expect(Object.keys(first).sort()).toEqual(
      [
        'acceptedAt',
        'acknowledgedAt',
        'afterHours',
        'closedAt',
        'contactAt',
        'declinedAt',
        'fromAgency',
        'previousReferralId',
        'priority',
        'reason',
        'reference',
        'referralId',
        'sentAt',
        'state',
        'toAgency',
        'withdrawnAt',
      ].sort(),
    );

    const page1 = await drill({ groupBy: 'month', group: '2026-12', figure: 'after_hours', limit: 4 });
    expect(page1.referrals).toHaveLength(4);
    expect(page1.nextCursor).not.toBe('');
    const page2 = await drill({
      groupBy: 'month',
      group: '2026-12',
      figure: 'after_hours',
      limit: 4,
      cursor: page1.nextCursor,
    });
    expect([...page1.referrals, ...page2.referrals].map((r) => r.referralId).sort()).toEqual(ids(afterHours));
    expect(page2.nextCursor).toBe('');

    const anywhere = await drill({ figure: 'accepted_anywhere' });
    expect(anywhere.referrals.map((r) => r.referralId).sort()).toEqual(ids([...afterHours, ...declined]));
    const outcome = await drill({
      groupBy: 'agency',
      group: 'pact-ottawa',
      figure: 'outcome:closed:services_provided',
    });
    expect(outcome.referrals.map((r) => r.referralId).sort()).toEqual(ids(resends));
    expect(outcome.referrals.every((r) => r.previousReferralId !== '')).toBe(true);
    const stillOpen = await drill({ figure: 'open' });
    expect(stillOpen.referrals.map((r) => r.referralId).sort()).toEqual(ids(open));
  });

  it("keeps a supervisor to its own agency's referrals, refuses others and unknown figures", async () => {
    const mine = await drill({ figure: 'referrals' }, 'london-supervisor');
    expect(mine.referrals.length).toBe(16);
    expect(mine.referrals.every((r) => r.toAgency === 'london-coalition')).toBe(true);
    const refused = await failureOf<{ code: string }>(drill({ figure: 'referrals' }, 'london-intake'));
    expect(refused.code).toBe('permission_denied');
    const unknown = await failureOf<{ code: string; message: string }>(drill({ figure: 'packets' }));
    expect(unknown.code).toBe('invalid_argument');
    expect(unknown.message).toMatch(/^figure: /);
    const cursor = await failureOf<{ code: string; message: string }>(drill({ cursor: 'nonsense' }));
    expect(cursor.message).toMatch(/^cursor: /);
  });
});

describe('consent honoured', () => {
  it('lists each revocation with the referrals it covered and when each stopped being readable', async () => {
    const report = await callUnary(client.consentReport.bind(client), { range: november }, lab.as('auditor'));
    expect(report.revocations).toHaveLength(1);
    const [revocation] = report.revocations;
    expect(revocation).toMatchObject({ consentId, revokedAt, all: true });
    const byId = new Map(revocation!.referrals.map((r) => [r.referralId, r]));
    expect([...byId.keys()].sort()).toEqual(ids(covered));
    expect(byId.get(covered[0]!.id!)).toMatchObject({
      firstRefusedAt: later(60),
      grantedAfter: 0,
      state: 'acknowledged',
    });
    // Read after the revocation and never refused: the report shows it was not honoured.
    expect(byId.get(covered[1]!.id!)).toMatchObject({ grantedAfter: 1 });
    expect(byId.get(covered[1]!.id!)!.firstRefusedAt).toBeUndefined();
    // A supervisor of an agency that neither sent nor received them sees none of it.
    const elsewhere = await callUnary(
      client.consentReport.bind(client),
      { range: november },
      lab.as({ userId: 'ottawa-supervisor', agencyId: 'pact-ottawa', roles: ['supervisor'] }),
    );
    expect(elsewhere.revocations).toEqual([]);
  });
});

describe('access log by reference', () => {
  const find = (reference: string, user = 'auditor') =>
    callUnary(client.findAccessLog.bind(client), { reference, range: undefined }, lab.as(user));

  it("finds a person's access log by a referral reference or id, a receipt reference or the subject reference", async () => {
    const byReferral = await find(covered[1]!.id!);
    expect(byReferral.foundAs).toBe('referral');
    expect(byReferral.subjectRefs).toEqual([person]);
    expect(byReferral.records.map((r) => r.outcome)).toEqual(['granted', 'granted', 'denied', 'denied']);
    expect(byReferral.records.every((r) => r.subjectRef === person)).toBe(true);

    const receipt = consentId.replace(/-/g, '').slice(-8);
    const byReceipt = await find(` ${receipt.toLowerCase()} `);
    expect(byReceipt).toMatchObject({ foundAs: 'receipt', subjectRefs: [person] });
    expect(byReceipt.records).toHaveLength(4);

    const bySubject = await find(person);
    expect(bySubject).toMatchObject({ foundAs: 'subject', subjectRefs: [person] });
    expect(bySubject.records).toHaveLength(4);

    // The short reference as someone types it off the screen: any case, spaces for dashes.
    const typed = covered[1]!.reference!.toLowerCase().replace(/-/g, ' ');
    const byShort = await find(typed);
    expect(byShort).toMatchObject({ foundAs: 'referral_reference', subjectRefs: [person] });
    expect(byShort.records.map((r) => r.outcome)).toEqual(['granted', 'granted', 'denied', 'denied']);

    // The drill-down lists name them by the same reference.
    const listed = await drill({ figure: 'referrals', range: november });
    expect(listed.referrals.length).toBeGreaterThan(0);
    const referenceOf = new Map(listed.referrals.map((r) => [r.referralId, r.reference]));
    expect(covered.map((r) => referenceOf.get(r.id!))).toEqual(covered.map((r) => r.reference));

    // A well-formed reference no referral has: nothing found, not an error.
    const noSuch = await find(formatReference(9_000_100));
    expect(noSuch.foundAs).toBe('');
    expect(noSuch.records).toEqual([]);

    const unknown = await find(randomUUID());
    expect(unknown.foundAs).toBe('');
    expect(unknown.records).toEqual([]);
  });

  it('refuses what is no reference, and anyone but an auditor or administrator', async () => {
    const bad = await failureOf<{ code: string; message: string }>(find('R-7K3M-Q9X!'));
    expect(bad.code).toBe('invalid_argument');
    expect(bad.message).toMatch(/^reference: /);
    const refused = await failureOf<{ code: string }>(find(person, 'london-supervisor'));
    expect(refused.code).toBe('permission_denied');
  });
});
