import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '@passage/contracts';
import { createEnvelope } from '@passage/events';
import { callUnary } from '@passage/platform';
import { failureOf } from '@passage/testing';
import pg from 'pg';
import { PgReportStore } from '../src/adapters/db/report-store.ts';
import { bucketOf } from '../src/domain/index.ts';
import {
  agencyEvent,
  referralEvents,
  startAuditLab,
  waitForEntries,
  type AuditLab,
  type ReferralStory,
} from './support.ts';

let lab: AuditLab;
let client: audit.AuditServiceClient;
const day = Date.UTC(2026, 10, 2, 14, 0); // 2026-11-02, all six referrals of the hand-off figures
const subject = randomUUID();
const escalatedReferral = randomUUID();

// Six referrals whose figures are worked out by hand below.
const handoffStories: ReferralStory[] = [
  {
    from: 'peel-regional-police',
    to: 'london-coalition',
    sentAt: new Date(day),
    acknowledgeDueMinutes: 60,
    acceptDueMinutes: 240,
    acknowledged: 10,
    accepted: 30,
    contact: 60,
    closed: 120,
  },
  {
    from: 'peel-regional-police',
    to: 'london-coalition',
    sentAt: new Date(day + 60_000),
    acknowledgeDueMinutes: 60,
    acceptDueMinutes: 240,
    acknowledged: 20,
    accepted: 300,
    contact: 400,
  },
  {
    id: escalatedReferral,
    from: 'ontario-ht-crisis-line',
    to: 'london-coalition',
    sentAt: new Date(day + 120_000),
    acknowledgeDueMinutes: 60,
    acceptDueMinutes: 240,
    acknowledged: 90,
  },
  {
    from: 'ontario-ht-crisis-line',
    to: 'pact-ottawa',
    priority: 'urgent',
    sentAt: new Date(day + 180_000),
    acknowledgeDueMinutes: 15,
    acceptDueMinutes: 60,
    acknowledged: 5,
    accepted: 15,
  },
  {
    from: 'ontario-ht-crisis-line',
    to: 'pact-ottawa',
    sentAt: new Date(day + 240_000),
    acknowledgeDueMinutes: 60,
    acceptDueMinutes: 240,
  },
  {
    from: 'peel-regional-police',
    to: 'pact-ottawa',
    sentAt: new Date(day + 300_000),
    acknowledgeDueMinutes: 60,
    acceptDueMinutes: 240,
    declined: 30,
  },
];

// A larger October for the statistics (region × need):
//            counselling  housing
//   london        12         6
//   ottawa         5         7
//   sarnia         0         2
const octoberStories: ReferralStory[] = (
  [
    ['london-coalition', 'counselling', 12],
    ['london-coalition', 'housing', 6],
    ['pact-ottawa', 'counselling', 5],
    ['pact-ottawa', 'housing', 7],
    ['sarnia-lambton-committee', 'housing', 2],
  ] as const
)
  .flatMap(([to, need, n]) => Array.from({ length: n }, (_, i) => ({ to, needs: [need], i })))
  .map(({ to, needs, i }) => ({
    from: 'peel-regional-police',
    to,
    needs,
    sentAt: new Date(Date.UTC(2026, 9, 5 + i, 15)),
    acknowledgeDueMinutes: 60,
    acceptDueMinutes: 240,
    acknowledged: 30,
  }));

function consentEvent(type: string, consentId: string, payload: Parameters<typeof createEnvelope>[0]['payload']) {
  return {
    subject: lab.topology.consent(type),
    envelope: createEnvelope({
      type: `consent.v1.${type}`,
      actor: { agency: 'peel-regional-police', user: 'peel-officer', role: 'officer' },
      subjectRef: subject,
      consentId,
      payload,
    }),
  };
}

function accessEvent(agency: string, user: string, outcome: 'granted' | 'denied', categories: string[]) {
  const referralId = randomUUID();
  return {
    subject: lab.topology.audit('access'),
    envelope: createEnvelope({
      type: 'audit.v1.access',
      actor: { agency, user, role: 'intake_worker' },
      referralId,
      subjectRef: subject,
      payload: {
        $case: 'accessRecorded',
        value: {
          referralId,
          outcome,
          categories,
          consentIds: ['c-1'],
          purpose: 'referral',
          reason: outcome === 'denied' ? 'no_consent' : '',
          record: '',
        },
      },
    }),
  };
}

beforeAll(async () => {
  lab = await startAuditLab('auditreports');
  client = lab.client!;
  const consentId = randomUUID();
  const events = [
    agencyEvent(lab.topology, 'london-coalition', 'london'),
    agencyEvent(lab.topology, 'pact-ottawa', 'ottawa'),
    agencyEvent(lab.topology, 'sarnia-lambton-committee', 'sarnia-lambton'),
    ...handoffStories.flatMap((story) => referralEvents(story, lab.topology)),
    ...octoberStories.flatMap((story) => referralEvents(story, lab.topology)),
    consentEvent('granted', consentId, {
      $case: 'consentGranted',
      value: { consentId, expiresAt: undefined, scopes: [], method: 'verbal' },
    }),
    consentEvent('revoked', consentId, {
      $case: 'consentRevoked',
      value: { consentId, scopeIds: [], all: true, reason: 'person_asked' },
    }),
    ...referralEvents(
      {
        from: 'peel-regional-police',
        to: 'london-coalition',
        sentAt: new Date(Date.UTC(2026, 8, 1, 15)),
        acknowledgeDueMinutes: 60,
        acceptDueMinutes: 240,
        withdrawn: 5,
        withdrawReason: 'consent_revoked',
      },
      lab.topology,
    ),
    // London's third referral, acknowledged late and never accepted, escalated twice.
    ...(['acknowledge_overdue', 'accept_overdue'] as const).map((reason, i) => {
      const story = handoffStories[2]!;
      const latest = referralEvents(story, lab.topology).at(-1)!.envelope;
      if (latest.payload?.$case !== 'referralChanged') throw new Error('a referral event without its payload');
      const changed = latest.payload.value;
      const envelope: typeof latest = {
        ...latest,
        id: randomUUID(),
        type: 'referral.v1.escalated',
        payload: { $case: 'referralChanged', value: { ...changed, version: changed.version + 1 + i, reason } },
      };
      return { subject: lab.topology.referral(story.from, story.to, 'escalated'), envelope };
    }),
    accessEvent('london-coalition', 'london-intake', 'granted', ['needs', 'contact']),
    accessEvent('london-coalition', 'london-intake', 'granted', ['needs']),
    accessEvent('windsor-essex-ahtag', 'windsor-intake', 'denied', ['needs']),
  ];
  for (const { subject: natsSubject, envelope } of events) await lab.publish(envelope, natsSubject);
  await waitForEntries(lab, events.length);
});

afterAll(async () => {
  await lab?.stop();
});

const as = (user: string) => lab.as(user);
const handoff = (
  groupBy: string,
  user = 'auditor',
  range: audit.TimeRange = { since: new Date(day), until: new Date(day + 86_400_000) },
) => callUnary(client.handoffReport.bind(client), { groupBy, range }, as(user));
const minutes = (n: number) => n * 60;

describe('hand-off report', () => {
  it('matches the figures worked out by hand, per receiving agency', async () => {
    const report = await handoff('agency');
    expect(report.rows.map((r) => r.group)).toEqual(['london-coalition', 'pact-ottawa']);
    const [london, ottawa] = report.rows;
    // London: acknowledged after 10, 20, 90 min; accepted after 30, 300; contact 60, 400; closed 120.
    expect(london).toMatchObject({
      referrals: 3,
      acknowledge: { count: 3, p50Seconds: minutes(20), p90Seconds: minutes(76), maxSeconds: minutes(90) },
      accept: { count: 2, p50Seconds: minutes(165), p90Seconds: minutes(273), maxSeconds: minutes(300) },
      firstContact: { count: 2, p50Seconds: minutes(230), p90Seconds: minutes(366), maxSeconds: minutes(400) },
      close: { count: 1, p50Seconds: minutes(120), p90Seconds: minutes(120), maxSeconds: minutes(120) },
      openPastDue: 1,
      escalations: 2,
      acceptEscalations: 1,
    });
    expect(london!.acknowledgedWithinSla).toBeCloseTo(2 / 3, 10);
    expect(london!.acceptedWithinSla).toBeCloseTo(1 / 3, 10);
    // Ottawa: one urgent acknowledged at 5 and accepted at 15, one never acknowledged, one declined.
    expect(ottawa).toMatchObject({
      referrals: 3,
      acknowledge: { count: 1, p50Seconds: minutes(5), maxSeconds: minutes(5) },
      accept: { count: 1, p50Seconds: minutes(15) },
      acknowledgedWithinSla: 0.5,
      acceptedWithinSla: 0.5,
      openPastDue: 1,
    });
    expect(report.total).toMatchObject({
      group: 'total',
      referrals: 6,
      acknowledge: { count: 4, p50Seconds: minutes(15), p90Seconds: minutes(69), maxSeconds: minutes(90) },
      openPastDue: 2,
    });
  });

  it('groups by region, priority and month', async () => {
    expect((await handoff('region')).rows.map((r) => [r.group, r.referrals])).toEqual([
      ['london', 3],
      ['ottawa', 3],
    ]);
    expect((await handoff('priority')).rows.map((r) => [r.group, r.referrals])).toEqual([
      ['standard', 5],
      ['urgent', 1],
    ]);
    expect((await handoff('month', 'auditor', {})).rows.map((r) => [r.group, r.referrals])).toEqual([
      ['2026-09', 1],
      ['2026-10', 32],
      ['2026-11', 6],
    ]);
  });

  it("shows a supervisor its own agency's referrals only, and nobody else any", async () => {
    const report = await handoff('agency', 'london-supervisor');
    expect(report.rows.map((r) => r.group)).toEqual(['london-coalition']);
    expect(report.total!.referrals).toBe(3);
    const refused = await failureOf<{ code: string }>(handoff('agency', 'london-intake'));
    expect(refused.code).toBe('permission_denied');
  });

  it('refuses an unknown grouping and an inverted range, naming the field', async () => {
    const grouping = await failureOf<{ code: string; message: string }>(handoff('colour'));
    expect(grouping.code).toBe('invalid_argument');
    expect(grouping.message).toMatch(/^groupBy: one of agency, region, priority, month/);
    const inverted = await failureOf<{ code: string; message: string }>(
      handoff('agency', 'auditor', { since: new Date(day + 1000), until: new Date(day) }),
    );
    expect(inverted.code).toBe('invalid_argument');
    expect(inverted.message).toMatch(/^range: since/);
  });
});

describe('hand-off report over the rollup', () => {
  it('agrees with the exact figures: counts and shares equal, percentiles within the 2 % of a bucket', async () => {
    const pool = new pg.Pool({ connectionString: lab.db.url, max: 2 });
    try {
      const exact = new PgReportStore(pool);
      const rolled = new PgReportStore(pool, { exactLimit: 0 });
      const now = new Date();
      for (const window of [
        {},
        { since: new Date(day), until: new Date(day + 86_400_000) },
        { since: new Date(Date.UTC(2026, 9, 1)) },
      ]) {
        for (const grouping of ['agency', 'month'] as const) {
          const a = await exact.handoff(grouping, window, { kind: 'all' }, now);
          const b = await rolled.handoff(grouping, window, { kind: 'all' }, now);
          expect([a.approximate, b.approximate]).toEqual([false, true]);
          expect(b.rows.map((r) => r.group)).toEqual(a.rows.map((r) => r.group));
          for (const [x, y] of [...a.rows.map((r, i) => [r, b.rows[i]!] as const), [a.total, b.total] as const]) {
            expect(y).toMatchObject({
              referrals: x.referrals,
              acknowledgedWithinSla: x.acknowledgedWithinSla,
              acceptedWithinSla: x.acceptedWithinSla,
              openPastDue: x.openPastDue,
              escalations: x.escalations,
            });
            for (const stage of ['acknowledge', 'accept', 'firstContact', 'close'] as const) {
              expect(y[stage].count).toBe(x[stage].count);
              expect(y[stage].maxSeconds).toBe(x[stage].maxSeconds);
              for (const p of ['p50Seconds', 'p90Seconds'] as const) {
                expect(Math.abs(y[stage][p] - x[stage][p])).toBeLessThanOrEqual(Math.max(60, x[stage][p] * 0.02));
              }
            }
          }
        }
      }
    } finally {
      await pool.end();
    }
  });

  it('buckets durations in SQL exactly as the service does', async () => {
    const { rows } = await lab.sql.query<{ s: number; b: number }>(
      `select s::float8 as s, audit.duration_bucket(s) as b
       from (select generate_series(0, 120000000, 7919)::float8 as s
             union all select 3600 * power(1.02, k) from generate_series(0, 600) k) v`,
    );
    expect(rows.length).toBeGreaterThan(15_000);
    const differing = rows.filter((row) => bucketOf(row.s) !== row.b);
    expect(differing).toEqual([]);
  });
});

describe('consent report and access log', () => {
  it('counts consents by agency and method, withdrawals by revocation, and accesses by category', async () => {
    const report = await callUnary(client.consentReport.bind(client), {}, as('auditor'));
    expect(report.consents).toEqual([
      { agencyId: 'peel-regional-police', method: 'verbal', granted: 1, revoked: 1, expired: 0 },
    ]);
    expect(report.referralsWithdrawnByRevocation).toBe(1);
    expect(report.accesses).toEqual([
      { agencyId: 'london-coalition', category: 'contact', granted: 1, denied: 0 },
      { agencyId: 'london-coalition', category: 'needs', granted: 2, denied: 0 },
      { agencyId: 'windsor-essex-ahtag', category: 'needs', granted: 0, denied: 1 },
    ]);
    expect(report.accessesDenied).toBe(1);
  });

  it('shows every consent scope that lets police read as police access: proposed, then confirmed, or granted', async () => {
    const proposedThenConfirmed = randomUUID();
    const grantedAtOnce = randomUUID();
    const policeEvent = (
      consentId: string,
      actor: { agency: string; user: string; role: string },
      value: Partial<
        Extract<NonNullable<Parameters<typeof createEnvelope>[0]['payload']>, { $case: 'policeAccess' }>['value']
      >,
    ) =>
      createEnvelope({
        type: 'consent.v1.police_access',
        actor,
        subjectRef: randomUUID(),
        consentId,
        payload: {
          $case: 'policeAccess',
          value: {
            consentId,
            scopeId: `${consentId}-s`,
            state: 'proposed',
            policeAgencyIds: [],
            allPolice: false,
            categories: ['needs', 'situation'],
            recordedByAgency: actor.agency,
            recordedAt: new Date(Date.UTC(2026, 10, 20, 15)),
            ...value,
          },
        },
      });
    const police = { agency: 'peel-regional-police', user: 'peel-officer', role: 'officer' };
    const crisisLine = { agency: 'ontario-ht-crisis-line', user: 'crisis-counsellor', role: 'crisis_counsellor' };
    const events = [
      policeEvent(proposedThenConfirmed, police, { policeAgencyIds: ['peel-regional-police'] }),
      policeEvent(proposedThenConfirmed, crisisLine, {
        state: 'confirmed',
        policeAgencyIds: ['peel-regional-police'],
        recordedByAgency: 'peel-regional-police',
      }),
      policeEvent(grantedAtOnce, crisisLine, {
        state: 'granted',
        allPolice: true,
        recordedAt: new Date(Date.UTC(2026, 10, 21, 15)),
      }),
    ];
    const before = await lab.entries();
    for (const envelope of events) await lab.publish(envelope, lab.topology.consent('police_access'));
    await waitForEntries(lab, before + events.length);

    const report = await callUnary(client.consentReport.bind(client), {}, as('auditor'));
    expect(report.policeAccess.map((p) => [p.consentId, p.state, p.recordedByAgency, p.confirmedByAgency])).toEqual([
      [proposedThenConfirmed, 'confirmed', 'peel-regional-police', 'ontario-ht-crisis-line'],
      [grantedAtOnce, 'granted', 'ontario-ht-crisis-line', ''],
    ]);
    expect(report.policeAccess[0]).toMatchObject({
      policeAgencyIds: ['peel-regional-police'],
      allPolice: false,
      categories: ['needs', 'situation'],
    });
    expect(report.policeAccess[0]?.confirmedAt).toBeInstanceOf(Date);
    expect(report.policeAccess[1]?.allPolice).toBe(true);
    // A supervisor sees the police access its own agency is party to, and no other.
    const london = await callUnary(client.consentReport.bind(client), {}, as('london-supervisor'));
    expect(london.policeAccess).toEqual([]);
  });

  it("lists every access to one person's data with who, when, what and the outcome", async () => {
    const log = await callUnary(client.accessLog.bind(client), { subjectRef: subject }, as('auditor'));
    expect(log.records).toHaveLength(3);
    expect(log.records.map((r) => [r.actorUser, r.actorAgency, r.outcome, r.categories])).toEqual([
      ['london-intake', 'london-coalition', 'granted', ['needs', 'contact']],
      ['london-intake', 'london-coalition', 'granted', ['needs']],
      ['windsor-intake', 'windsor-essex-ahtag', 'denied', ['needs']],
    ]);
    expect(log.records.every((r) => r.subjectRef === subject && r.at instanceof Date && r.purpose === 'referral')).toBe(
      true,
    );
  });

  it("lists the consent service's reads of a receipt or a history in the same access log, saying which", async () => {
    const person = randomUUID();
    const consentId = randomUUID();
    const before = await lab.entries();
    await lab.publish(
      createEnvelope({
        type: 'audit.v1.access',
        actor: { agency: 'peel-regional-police', user: 'peel-officer', role: 'officer' },
        subjectRef: person,
        consentId,
        payload: {
          $case: 'accessRecorded',
          value: {
            referralId: '',
            outcome: 'granted',
            categories: ['identity'],
            consentIds: [consentId],
            purpose: '',
            reason: '',
            record: 'consent_receipt',
          },
        },
      }),
      lab.topology.audit('access'),
    );
    await waitForEntries(lab, before + 1);
    const log = await callUnary(client.accessLog.bind(client), { subjectRef: person }, as('auditor'));
    expect(log.records.map((r) => [r.record, r.actorUser, r.categories, r.consentIds])).toEqual([
      ['consent_receipt', 'peel-officer', ['identity'], [consentId]],
    ]);
  });
});

describe('statistics report', () => {
  it('never shows a count under 5, in a cell or a total, and hides enough that none can be derived', async () => {
    const table = await callUnary(
      client.statisticsReport.bind(client),
      {
        rows: 'region',
        columns: 'need',
        range: { since: new Date(Date.UTC(2026, 9, 1)), until: new Date(Date.UTC(2026, 10, 1)) },
      },
      as('auditor'),
    );
    expect(table.threshold).toBe(5);
    expect(table.columnLabels).toEqual(['counselling', 'housing']);
    expect(table.rows.map((r) => r.label)).toEqual(['london', 'ottawa', 'sarnia-lambton']);
    const cells = [...table.rows.flatMap((r) => [...r.cells, r.total!]), ...table.totals!.cells, table.totals!.total!];
    const shown = cells.filter((c) => !c.suppressed);
    expect(shown).not.toHaveLength(0);
    expect(shown.every((c) => c.count >= 5)).toBe(true);
    // Sarnia's 0 and 2 are hidden, and with them enough of the other lines that no subtraction gives them away.
    const sarnia = table.rows[2]!;
    expect(sarnia.cells[1]!.suppressed).toBe(true);
    expect([...sarnia.cells, sarnia.total!].filter((c) => c.suppressed).length).toBeGreaterThanOrEqual(2);
    const housing = [...table.rows.map((r) => r.cells[1]!), table.totals!.cells[1]!];
    expect(housing.filter((c) => c.suppressed).length).toBeGreaterThanOrEqual(2);
    // London's line is not at risk.
    expect(table.rows[0]!.cells).toEqual([
      { suppressed: false, count: 12 },
      { suppressed: false, count: 6 },
    ]);
  });

  it('refuses the same dimension twice', async () => {
    const refused = await failureOf<{ code: string; message: string }>(
      callUnary(
        client.statisticsReport.bind(client),
        { rows: 'month', columns: 'month', range: undefined },
        as('auditor'),
      ),
    );
    expect(refused.code).toBe('invalid_argument');
    expect(refused.message).toMatch(/^columns:/);
  });
});
