import type pg from 'pg';
import type { DurationFigures, HandoffGrouping, LoopCounts, TimeWindow } from '../../domain/index.ts';
import { iso } from './sql-values.ts';

/** Whitelisted SQL for each grouping over referrals (r) and their receiving agency (a). */
export const groupOverReferrals: Record<HandoffGrouping, string> = {
  agency: 'r.to_agency',
  region: `coalesce(a.region, 'unknown')`,
  priority: 'r.priority',
  month: `to_char(r.sent_at at time zone 'America/Toronto', 'YYYY-MM')`,
};

/** Every referral once, by its state now. */
export const outcomeOf = `case r.state when 'closed' then 'closed:' || coalesce(nullif(r.reason, ''), 'unspecified')
  when 'declined' then 'declined' when 'withdrawn' then 'withdrawn' else 'open' end`;

/** Referrals sent in the window ($1, $2), received by the agency in scope ($3, '' for all). */
export const inReport = `($1::timestamptz is null or r.sent_at >= $1) and ($2::timestamptz is null or r.sent_at < $2)
  and ($3 = '' or r.to_agency = $3)`;

/**
 * Resend chains that start in the report (a referral with no previous one, sent in range), and
 * the first acceptance anywhere along each: the chain follows previous_referral_id forward.
 */
export const chainAcceptance = `with recursive chain(root, referral_id, depth) as (
    select r.referral_id, r.referral_id, 0 from audit.referrals r
    where r.previous_referral_id is null and ${inReport}
    union all
    select c.root, n.referral_id, c.depth + 1 from chain c
    join audit.referrals n on n.previous_referral_id = c.referral_id
    where c.depth < 100
  ), accepted as (
    select c.root, min(n.accepted_at) as accepted_at from chain c
    join audit.referrals n on n.referral_id = c.referral_id
    group by c.root having min(n.accepted_at) is not null
  )`;

const figures = `count(*) as n, percentile_cont(0.5) within group (order by s) as p50,
  percentile_cont(0.9) within group (order by s) as p90, max(s) as mx`;

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;

function durationFigures(row: Record<string, unknown> | undefined): DurationFigures {
  if (!row) return { count: 0, p50Seconds: 0, p90Seconds: 0, maxSeconds: 0 };
  return {
    count: Number(row['n']),
    p50Seconds: round(Number(row['p50'] ?? 0)),
    p90Seconds: round(Number(row['p90'] ?? 0)),
    maxSeconds: round(Number(row['mx'] ?? 0)),
  };
}

/**
 * The loop-closure counts of each group and the whole report's duration figures, from the
 * referral projection (exact: percentile_cont over every duration).
 */
export async function loopClosureCounts(
  db: pg.PoolClient,
  grouping: HandoffGrouping,
  window: TimeWindow,
  agency: string,
): Promise<{ groups: LoopCounts[]; total: Pick<LoopCounts, 'acceptAnywhere' | 'afterHoursFirstContact'> }> {
  const params = [iso(window.since), iso(window.until), agency];
  const from = 'audit.referrals r left join audit.agencies a on a.agency_id = r.to_agency';
  const grp = groupOverReferrals[grouping];
  const { rows: outcomes } = await db.query<{ grp: string; outcome: string; n: string }>(
    `select ${grp} as grp, ${outcomeOf} as outcome, count(*) as n from ${from} where ${inReport} group by 1, 2`,
    params,
  );
  const { rows: counts } = await db.query<{ grp: string; resent: string; after_hours: string }>(
    `select ${grp} as grp,
            count(*) filter (where exists (select 1 from audit.referrals n where n.previous_referral_id = r.referral_id))
              as resent,
            count(*) filter (where r.after_hours) as after_hours
     from ${from} where ${inReport} group by 1`,
    params,
  );
  // Grouping sets: one line per group, and one (grp null) over the whole report.
  const { rows: contact } = await db.query<Record<string, unknown>>(
    `select grp, ${figures} from (
       select ${grp} as grp, extract(epoch from r.contact_at - r.sent_at)::float8 as s from ${from}
       where ${inReport} and r.after_hours and r.contact_at is not null
     ) d group by grouping sets ((grp), ())`,
    params,
  );
  const { rows: anywhere } = await db.query<Record<string, unknown>>(
    `${chainAcceptance}
     select grp, ${figures} from (
       select ${grp} as grp, extract(epoch from x.accepted_at - r.sent_at)::float8 as s
       from accepted x join audit.referrals r on r.referral_id = x.root left join audit.agencies a on a.agency_id = r.to_agency
     ) d group by grouping sets ((grp), ())`,
    params,
  );
  const byGroup = (rows: Record<string, unknown>[]) =>
    new Map(rows.filter((row) => row['grp'] !== null).map((row) => [String(row['grp']), row]));
  const contactBy = byGroup(contact);
  const anywhereBy = byGroup(anywhere);
  const countsBy = new Map(counts.map((row) => [row.grp, row]));
  const mixBy = new Map<string, Map<string, number>>();
  for (const row of outcomes) {
    const mix = mixBy.get(row.grp) ?? new Map<string, number>();
    mix.set(row.outcome, Number(row.n));
    mixBy.set(row.grp, mix);
  }
  const groups = [...mixBy.keys()].sort().map((group): LoopCounts => ({
    group,
    referrals: [...mixBy.get(group)!.values()].reduce((sum, n) => sum + n, 0),
    outcomes: mixBy.get(group)!,
    resent: Number(countsBy.get(group)?.resent ?? 0),
    afterHours: Number(countsBy.get(group)?.after_hours ?? 0),
    acceptAnywhere: durationFigures(anywhereBy.get(group)),
    afterHoursFirstContact: durationFigures(contactBy.get(group)),
  }));
  return {
    groups,
    total: {
      acceptAnywhere: durationFigures(anywhere.find((row) => row['grp'] === null)),
      afterHoursFirstContact: durationFigures(contact.find((row) => row['grp'] === null)),
    },
  };
}
