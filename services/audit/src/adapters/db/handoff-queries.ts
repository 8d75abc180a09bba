import type pg from 'pg';
import type { HandoffRow, StageFigures } from '../../app/ports.ts';
import {
  addTo,
  bucketSeconds,
  histogramCount,
  nextMonth,
  percentile,
  publishLoopClosure,
  scopedAgency,
  torontoMonth,
  torontoMonthStart,
  type HandoffGrouping,
  type Histogram,
  type LoopFigures,
  type ReportScope,
  type TimeWindow,
} from '../../domain/index.ts';
import { iso } from './sql-values.ts';
import { groupOverReferrals, loopClosureCounts } from './loop-closure-queries.ts';

export interface HandoffResult {
  readonly rows: HandoffRow[];
  readonly total: HandoffRow;
  /** True when the percentiles come from the histograms (2 % wide above an hour). */
  readonly approximate: boolean;
}

/** Whitelisted SQL for each grouping, over the rollup (h); over referrals: groupOverReferrals. */
const groupOverRollup: Record<HandoffGrouping, string> = {
  agency: 'h.to_agency',
  region: `coalesce(a.region, 'unknown')`,
  priority: 'h.priority',
  month: `to_char(h.month, 'YYYY-MM')`,
};

/** Below this many referrals in range, percentiles are computed exactly from every duration. */
export const exactReferralLimit = 50_000;

interface Accumulator {
  referrals: number;
  acknowledgedInTime: number;
  acceptedInTime: number;
  escalations: number;
  acceptEscalations: number;
  stages: Histogram[];
  maxima: number[];
  acknowledgeOverdue: number;
  acceptOverdue: number;
  pastDue: number;
}

const emptyAccumulator = (): Accumulator => ({
  referrals: 0,
  acknowledgedInTime: 0,
  acceptedInTime: 0,
  escalations: 0,
  acceptEscalations: 0,
  stages: [0, 1, 2, 3].map((): Histogram => new Map<number, number>()),
  maxima: [0, 0, 0, 0],
  acknowledgeOverdue: 0,
  acceptOverdue: 0,
  pastDue: 0,
});

function merge(into: Accumulator, from: Accumulator): void {
  into.referrals += from.referrals;
  into.acknowledgedInTime += from.acknowledgedInTime;
  into.acceptedInTime += from.acceptedInTime;
  into.escalations += from.escalations;
  into.acceptEscalations += from.acceptEscalations;
  from.stages.forEach((h, i) => addTo(into.stages[i]!, h));
  from.maxima.forEach((m, i) => (into.maxima[i] = Math.max(into.maxima[i]!, m)));
  into.acknowledgeOverdue += from.acknowledgeOverdue;
  into.acceptOverdue += from.acceptOverdue;
  into.pastDue += from.pastDue;
}

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;

type ValueOf = (key: number) => number;
const exactly: ValueOf = (seconds) => seconds;

function figuresOf(histogram: Histogram, max: number, valueOf: ValueOf): StageFigures {
  const count = histogramCount(histogram);
  return {
    count,
    p50Seconds: round(percentile(histogram, 0.5, valueOf)),
    p90Seconds: round(percentile(histogram, 0.9, valueOf)),
    maxSeconds: count === 0 ? 0 : round(max),
  };
}

const share = (within: number, decided: number): number => (decided > 0 ? within / decided : 0);

const noDurations = { suppressed: false, count: 0, p50Seconds: 0, p90Seconds: 0, maxSeconds: 0 };
const zero = { suppressed: false, count: 0 };
const noLoop: LoopFigures = {
  closed: zero,
  closureRate: { suppressed: false, value: 0 },
  outcomes: [],
  declined: zero,
  declineRate: { suppressed: false, value: 0 },
  resent: zero,
  resendRate: { suppressed: false, value: 0 },
  acceptAnywhere: noDurations,
  afterHours: zero,
  afterHoursFirstContact: noDurations,
};

function rowOf(group: string, a: Accumulator, valueOf: ValueOf, loop: LoopFigures): HandoffRow {
  const acknowledged = histogramCount(a.stages[0]!);
  const accepted = histogramCount(a.stages[1]!);
  return {
    ...loop,
    group,
    referrals: a.referrals,
    acknowledge: figuresOf(a.stages[0]!, a.maxima[0]!, valueOf),
    accept: figuresOf(a.stages[1]!, a.maxima[1]!, valueOf),
    firstContact: figuresOf(a.stages[2]!, a.maxima[2]!, valueOf),
    close: figuresOf(a.stages[3]!, a.maxima[3]!, valueOf),
    acknowledgedWithinSla: share(a.acknowledgedInTime, acknowledged + a.acknowledgeOverdue),
    acceptedWithinSla: share(a.acceptedInTime, accepted + a.acceptOverdue),
    openPastDue: a.pastDue,
    escalations: a.escalations,
    acceptEscalations: a.acceptEscalations,
  };
}

/**
 * The hand-off report. Up to 50,000 referrals in range: every duration, percentiles exact
 * (percentile_cont). Beyond: whole months from the rollup the ingest keeps, the ragged ends
 * of the range from the referrals themselves, bucketed the same way. Open referrals past due
 * are always counted live (they are few, and "past due" depends on now).
 */
export async function handoffReport(
  db: pg.PoolClient,
  grouping: HandoffGrouping,
  window: TimeWindow,
  scope: ReportScope,
  now: Date,
  exactLimit = exactReferralLimit,
): Promise<HandoffResult> {
  const agency = scopedAgency(scope);
  const full = fullMonths(window);
  const { rows: sized } = await db.query<{ n: string | null }>(
    `select sum(referrals) as n from audit.handoff_rollup
     where ($1::date is null or month >= $1) and ($2::date is null or month <= $2) and ($3 = '' or to_agency = $3)`,
    [window.since ? torontoMonth(window.since) : null, window.until ? torontoMonth(window.until) : null, agency],
  );
  const approximate = Number(sized[0]?.n ?? 0) > exactLimit;
  const groups = new Map<string, Accumulator>();
  const at = (group: string): Accumulator => {
    let acc = groups.get(group);
    if (!acc) groups.set(group, (acc = emptyAccumulator()));
    return acc;
  };

  if (approximate && full) await fromRollup(db, grouping, full, agency, at);
  const ranges = approximate && full ? outsideMonths(window, full) : [[iso(window.since), iso(window.until)] as Range];
  if (ranges.length > 0) await fromReferrals(db, grouping, ranges, agency, at, approximate);
  await overdue(db, grouping, window, agency, now, at);

  const loopCounts = await loopClosureCounts(db, grouping, window, agency);
  const loop = publishLoopClosure(loopCounts.groups, loopCounts.total);
  const loopOf = new Map(loopCounts.groups.map((g, i) => [g.group, loop.rows[i]!]));

  const valueOf = approximate ? bucketSeconds : exactly;
  const total = emptyAccumulator();
  for (const acc of groups.values()) merge(total, acc);
  const rows = [...groups.entries()]
    .filter(([, acc]) => acc.referrals > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, acc]) => rowOf(group, acc, valueOf, loopOf.get(group) ?? noLoop));
  return { rows, total: rowOf('total', total, valueOf, loop.total), approximate };
}

/** The whole Toronto months inside the window, as [first, end) month keys; undefined if none. */
function fullMonths(window: TimeWindow): { first: string | null; end: string | null } | undefined {
  let first: string | null = null;
  if (window.since) {
    const month = torontoMonth(window.since);
    first = torontoMonthStart(month).getTime() === window.since.getTime() ? month : nextMonth(month);
  }
  const end = window.until ? torontoMonth(window.until) : null;
  if (first && end && first >= end) return undefined;
  return { first, end };
}

async function fromRollup(
  db: pg.PoolClient,
  grouping: HandoffGrouping,
  months: { first: string | null; end: string | null },
  agency: string,
  at: (group: string) => Accumulator,
): Promise<void> {
  // Summed here rather than in SQL: adding arrays element by element is what JavaScript is quick at.
  const { rows } = await db.query<Record<string, unknown>>(
    `select ${groupOverRollup[grouping]} as grp, h.referrals, h.acknowledged_in_time as ack_in,
            h.accepted_in_time as accept_in, h.escalations, h.accept_escalations,
            h.acknowledge as h0, h.accept as h1, h.first_contact as h2, h.close as h3,
            h.acknowledge_max as m0, h.accept_max as m1, h.first_contact_max as m2, h.close_max as m3
     from audit.handoff_rollup h left join audit.agencies a on a.agency_id = h.to_agency
     where ($1::date is null or h.month >= $1) and ($2::date is null or h.month < $2) and ($3 = '' or h.to_agency = $3)`,
    [months.first, months.end, agency],
  );
  for (const row of rows) {
    const acc = at(String(row['grp']));
    addCounts(acc, row);
    for (let i = 0; i < 4; i += 1) addTo(acc.stages[i]!, (row[`h${i}`] as number[] | null) ?? []);
  }
}

/** The counts and maxima a row of either source carries, under the same column names. */
function addCounts(acc: Accumulator, row: Record<string, unknown>): void {
  acc.referrals += Number(row['referrals']);
  acc.acknowledgedInTime += Number(row['ack_in']);
  acc.acceptedInTime += Number(row['accept_in']);
  acc.escalations += Number(row['escalations']);
  acc.acceptEscalations += Number(row['accept_escalations']);
  for (let i = 0; i < 4; i += 1) acc.maxima[i] = Math.max(acc.maxima[i]!, Number(row[`m${i}`] ?? 0));
}

/** [since, until) of sent_at; null is open-ended. */
type Range = [string | null, string | null];

/** The ragged ends of the window that the rollup's whole months leave out. */
function outsideMonths(window: TimeWindow, months: { first: string | null; end: string | null }): Range[] {
  const ranges: Range[] = [];
  if (window.since && months.first) {
    const start = torontoMonthStart(months.first);
    if (start > window.since) ranges.push([iso(window.since), iso(start)]);
  }
  if (window.until && months.end) {
    const end = torontoMonthStart(months.end);
    if (end < window.until) ranges.push([iso(end), iso(window.until)]);
  }
  return ranges;
}

async function fromReferrals(
  db: pg.PoolClient,
  grouping: HandoffGrouping,
  ranges: readonly Range[],
  agency: string,
  at: (group: string) => Accumulator,
  bucketed: boolean,
): Promise<void> {
  // Each range a condition the sent_at index can answer; an unused second range is empty.
  const [first, second] = [ranges[0]!, ranges[1] ?? (['infinity', 'infinity'] as Range)];
  const where = `(($1::timestamptz is null or r.sent_at >= $1) and ($2::timestamptz is null or r.sent_at < $2)
      or (r.sent_at >= $4::timestamptz and r.sent_at < $5::timestamptz))
    and ($3 = '' or r.to_agency = $3)`;
  const params = [first[0], first[1], agency, second[0], second[1]];
  const stageColumns = ['acknowledged_at', 'accepted_at', 'contact_at', 'closed_at'];
  const { rows: counts } = await db.query<Record<string, unknown>>(
    `select ${groupOverReferrals[grouping]} as grp, count(*) as referrals,
            count(*) filter (where r.acknowledged_at <= r.acknowledge_due_at) as ack_in,
            count(*) filter (where r.accepted_at <= r.accept_due_at) as accept_in,
            coalesce(sum(r.escalations), 0) as escalations,
            coalesce(sum(r.accept_escalations), 0) as accept_escalations,
            ${stageColumns.map((c, i) => `max(extract(epoch from r.${c} - r.sent_at))::float8 as m${i}`).join(', ')}
     from audit.referrals r left join audit.agencies a on a.agency_id = r.to_agency
     where ${where} group by 1`,
    params,
  );
  for (const row of counts) addCounts(at(String(row['grp'])), row);
  // Durations: bucketed in SQL when the rollup is in use, or each one, for exact percentiles.
  const seconds = (i: number) => `extract(epoch from r.${stageColumns[i]} - r.sent_at)::float8`;
  const { rows: durations } = await db.query<{ grp: string; stage: number; value: number; n: string }>(
    `select grp, stage, value, count(*) as n from (
       select ${groupOverReferrals[grouping]} as grp, s.stage,
              ${bucketed ? 'audit.duration_bucket(s.seconds)' : 's.seconds'} as value
       from audit.referrals r left join audit.agencies a on a.agency_id = r.to_agency
       cross join lateral (values ${[0, 1, 2, 3].map((i) => `(${i}, ${seconds(i)})`).join(', ')}) as s(stage, seconds)
       where ${where} and s.seconds is not null
     ) d group by 1, 2, 3`,
    params,
  );
  for (const row of durations) {
    // Keyed by bucket, or by the exact duration (then read with the identity: see rowOf).
    const histogram = at(row.grp).stages[row.stage]!;
    histogram.set(row.value, (histogram.get(row.value) ?? 0) + Number(row.n));
  }
}

async function overdue(
  db: pg.PoolClient,
  grouping: HandoffGrouping,
  window: TimeWindow,
  agency: string,
  now: Date,
  at: (group: string) => Accumulator,
): Promise<void> {
  const { rows } = await db.query<Record<string, unknown>>(
    `select ${groupOverReferrals[grouping]} as grp,
            count(*) filter (where r.state = 'sent' and r.acknowledge_due_at < $4) as ack_overdue,
            count(*) filter (where r.accept_due_at < $4) as accept_overdue,
            count(*) filter (where (r.state = 'sent' and r.acknowledge_due_at < $4) or r.accept_due_at < $4) as past_due
     from audit.referrals r left join audit.agencies a on a.agency_id = r.to_agency
     where r.state in ('sent', 'acknowledged')
       and ($1::timestamptz is null or r.sent_at >= $1) and ($2::timestamptz is null or r.sent_at < $2)
       and ($3 = '' or r.to_agency = $3)
     group by 1`,
    [iso(window.since), iso(window.until), agency, now.toISOString()],
  );
  for (const row of rows) {
    const acc = at(String(row['grp']));
    acc.acknowledgeOverdue += Number(row['ack_overdue']);
    acc.acceptOverdue += Number(row['accept_overdue']);
    acc.pastDue += Number(row['past_due']);
  }
}
