// Seeds the audit service's tables for its benchmarks: a million referrals in the hand-off
// projection (SQL generate_series: ten agencies, four regions, two years, both priorities,
// every stage from never reached to closed). The log of synthetic entries is appended through
// the service's own store: `seedLog` of @passage/audit/testing. Synthetic ids and codes only.
import type pg from 'pg';

const agencies: [string, string][] = [
  ['london-coalition', 'london'],
  ['pact-ottawa', 'ottawa'],
  ['windsor-essex-ahtag', 'windsor-essex'],
  ['sarnia-lambton-committee', 'sarnia-lambton'],
  ['walk-with-me', 'ontario'],
  ['ontario-ht-crisis-line', 'ontario'],
];

export async function seedHandoffReferrals(sql: pg.Client, count: number): Promise<void> {
  for (const [agency, region] of agencies) {
    await sql.query(
      `insert into audit.agencies (agency_id, kind, region, version) values ($1, 'coalition', $2, 1)
       on conflict do nothing`,
      [agency, region],
    );
  }
  const chunk = 100_000;
  for (let start = 0; start < count; start += chunk) {
    await sql.query(
      `insert into audit.referrals (referral_id, from_agency, to_agency, priority, state, reason, needs, version, sent_at,
         acknowledged_at, accepted_at, contact_at, closed_at, acknowledge_due_at, accept_due_at, escalations)
       select gen_random_uuid(), 'peel-regional-police', to_agency, priority,
         case when stage >= 4 then 'closed' when stage = 3 then 'in_contact' when stage = 2 then 'accepted'
              when stage = 1 then 'acknowledged' else 'sent' end,
         case when stage >= 4 then 'services_provided' else '' end,
         array['counselling'], stage + 1, sent_at,
         case when stage >= 1 then sent_at + ack end,
         case when stage >= 2 then sent_at + ack * 3 end,
         case when stage >= 3 then sent_at + ack * 8 end,
         case when stage >= 4 then sent_at + ack * 40 end,
         sent_at + case priority when 'urgent' then interval '30 minutes' else interval '8 hours' end,
         sent_at + case priority when 'urgent' then interval '2 hours' else interval '2 days' end,
         (stage = 0)::int
       from (
         select ($3::text[])[1 + (i % $4)] as to_agency,
                case when i % 5 = 0 then 'urgent' else 'standard' end as priority,
                -- Older referrals have run their course; the last month's are at every stage.
                case when i % 730 >= 700 then (i * 7919) % 5 else 4 end as stage,
                timestamptz '2024-12-01' + (i % 730) * interval '1 day' + (i % 86400) * interval '1 second' as sent_at,
                ((i * 104729) % 36000 + 60) * interval '1 second' as ack
         from generate_series($1::bigint, $2::bigint) as i
       ) r`,
      [start, Math.min(count, start + chunk) - 1, agencies.map(([a]) => a), agencies.length],
    );
  }
  await sql.query('analyze audit.referrals');
  await rebuildHandoffRollup(sql);
}

/**
 * The hand-off rollup rebuilt from the referral projection in one statement: what the
 * ingest would have accumulated event by event (the service's tests hold the two equal).
 */
export async function rebuildHandoffRollup(sql: pg.Client): Promise<void> {
  await sql.query('delete from audit.handoff_rollup');
  await sql.query(`
    with r as (
      select date_trunc('month', sent_at at time zone 'America/Toronto')::date as month, to_agency, priority, escalations,
             acknowledged_at <= acknowledge_due_at as ack_in, accepted_at <= accept_due_at as accept_in,
             extract(epoch from acknowledged_at - sent_at)::float8 as s0, extract(epoch from accepted_at - sent_at)::float8 as s1,
             extract(epoch from contact_at - sent_at)::float8 as s2, extract(epoch from closed_at - sent_at)::float8 as s3
      from audit.referrals
    ), keys as (
      select month, to_agency, priority, count(*) as referrals, count(*) filter (where ack_in) as ack_in,
             count(*) filter (where accept_in) as accept_in, sum(escalations) as escalations,
             max(s0) as m0, max(s1) as m1, max(s2) as m2, max(s3) as m3
      from r group by 1, 2, 3
    ), counts as (
      select month, to_agency, priority, v.stage, audit.duration_bucket(v.s) as bucket, count(*)::int as n
      from r cross join lateral (values (0, s0), (1, s1), (2, s2), (3, s3)) as v(stage, s)
      where v.s is not null group by 1, 2, 3, 4, 5
    ), dense as (
      select k.month, k.to_agency, k.priority, st.stage, array_agg(coalesce(c.n, 0) order by g.bucket) as counts
      from keys k cross join generate_series(0, 3) as st(stage) cross join generate_series(0, 579) as g(bucket)
      left join counts c on c.month = k.month and c.to_agency = k.to_agency and c.priority = k.priority
                        and c.stage = st.stage and c.bucket = g.bucket
      group by 1, 2, 3, 4
    )
    insert into audit.handoff_rollup (month, to_agency, priority, referrals, acknowledged_in_time, accepted_in_time,
      escalations, acknowledge, accept, first_contact, close, acknowledge_max, accept_max, first_contact_max, close_max)
    select k.month, k.to_agency, k.priority, k.referrals, k.ack_in, k.accept_in, k.escalations,
           d0.counts, d1.counts, d2.counts, d3.counts,
           coalesce(k.m0, 0), coalesce(k.m1, 0), coalesce(k.m2, 0), coalesce(k.m3, 0)
    from keys k
    join dense d0 on (d0.month, d0.to_agency, d0.priority, d0.stage) = (k.month, k.to_agency, k.priority, 0)
    join dense d1 on (d1.month, d1.to_agency, d1.priority, d1.stage) = (k.month, k.to_agency, k.priority, 1)
    join dense d2 on (d2.month, d2.to_agency, d2.priority, d2.stage) = (k.month, k.to_agency, k.priority, 2)
    join dense d3 on (d3.month, d3.to_agency, d3.priority, d3.stage) = (k.month, k.to_agency, k.priority, 3)`);
}
